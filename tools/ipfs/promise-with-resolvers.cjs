// js-ipfs 0.66's dependencies call Promise.withResolvers, which Node gained only in 22: define it on older Nodes.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve
    let reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
