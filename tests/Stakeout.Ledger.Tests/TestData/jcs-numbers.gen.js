// Regenerates jcs-numbers.tsv: IEEE-754 bit patterns (seeded xorshift, fixed) and how ECMAScript writes them
// (JSON.stringify, which RFC 8785 section 3.2.2.3 adopts). Run: node jcs-numbers.gen.js > jcs-numbers.tsv
let s = 0x2545F4914F6CDD1Dn;
const mask = (1n << 64n) - 1n;
function next() { s ^= (s << 13n) & mask; s ^= s >> 7n; s ^= (s << 17n) & mask; return s & mask; }
const buf = Buffer.alloc(8);
console.log("# bits (hex)\tECMAScript text; node " + process.version);
let n = 0;
while (n < 3000) {
  let bits = next();
  // A third of the cases near everyday magnitudes (exponent 1e-8..1e22), the rest anywhere.
  if (n % 3 === 0) { bits = (bits & 0x800FFFFFFFFFFFFFn) | (BigInt(997 + Number(next() % 100n)) << 52n); }
  buf.writeBigUInt64BE(bits);
  const v = buf.readDoubleBE(0);
  if (!Number.isFinite(v)) continue;
  console.log(bits.toString(16).padStart(16, "0") + "\t" + JSON.stringify(v));
  n++;
}
