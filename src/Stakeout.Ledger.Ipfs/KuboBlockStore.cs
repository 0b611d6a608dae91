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

    /// <summary>The store of the node <paramref name="client"/> talks to.</summary>
    public KuboBlockStore(KuboClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
    }

    /// <inheritdoc />
    public string Name => _client.Name;

    /// <inheritdoc />
    public async ValueTask<Cid> PutAsync(ReadOnlyMemory<byte> block, ulong codec, CancellationToken cancellationToken) =>
        await _client.BlockPutAsync(block, codec, pin: true, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask<byte[]?> GetAsync(Cid cid, CancellationToken cancellationToken) =>
        await _client.BlockGetAsync(cid, cancellationToken).ConfigureAwait(false);
}
