using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Ipfs;

/// <summary>
/// Blocks on one IPFS node through its RPC API: <c>block/put</c> (pinned, sha2-256, CIDv1) and <c>block/get</c>, which
/// the node answers from its own store or its swarm peers. Every CID the node returns is checked against the one
/// computed locally and every block it returns against its CID (<see cref="BlockIntegrityException"/>).
/// </summary>
public sealed class KuboBlockStore : IBlockStore
{
    private readonly KuboClient _client;
    private readonly bool _readerChecks;

    /// <summary>The store of the node <paramref name="client"/> talks to.</summary>
    /// <param name="client">The node's client.</param>
    /// <param name="readerChecksBlocks">
    /// True when the caller hashes every block it gets (the ledger verifier does, and then names the record a wrong block
    /// belongs to): <see cref="GetAsync"/> hands the node's bytes over unchecked. False (the default): a wrong block
    /// throws <see cref="BlockIntegrityException"/>.
    /// </param>
    public KuboBlockStore(KuboClient client, bool readerChecksBlocks = false)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _readerChecks = readerChecksBlocks;
    }

    /// <inheritdoc />
    public string Name => _client.Name;

    /// <inheritdoc />
    public async ValueTask<Cid> PutAsync(ReadOnlyMemory<byte> block, ulong codec, CancellationToken cancellationToken) =>
        await _client.BlockPutAsync(block, codec, pin: true, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask<byte[]?> GetAsync(Cid cid, CancellationToken cancellationToken) => _readerChecks
        ? await _client.BlockGetUncheckedAsync(cid, cancellationToken).ConfigureAwait(false)
        : await _client.BlockGetAsync(cid, cancellationToken).ConfigureAwait(false);
}
