namespace Stakeout.Ledger.Storage;

/// <summary>
/// Content-addressed block storage: the local block directory, an IPFS node through its RPC API, or several of them.
/// A block's name is the CID of its bytes, so a reader checks every block it gets (<see cref="Cid.Matches"/>) and never
/// has to trust the store.
/// </summary>
public interface IBlockStore
{
    /// <summary>A name for messages: the directory, or the node's API address.</summary>
    string Name { get; }

    /// <summary>Stores <paramref name="block"/> and returns its CID. Durable when the task completes.</summary>
    ValueTask<Cid> PutAsync(ReadOnlyMemory<byte> block, ulong codec, CancellationToken cancellationToken);

    /// <summary>The block named <paramref name="cid"/>, or null when this store does not have it.</summary>
    ValueTask<byte[]?> GetAsync(Cid cid, CancellationToken cancellationToken);

    /// <summary>
    /// Stores several blocks; all are durable when the task completes. A store that can make a batch durable at once
    /// (the local directory fsyncs the files together) overrides this; the default stores them one after the other.
    /// </summary>
    async ValueTask<IReadOnlyList<Cid>> PutManyAsync(IReadOnlyList<(ReadOnlyMemory<byte> Block, ulong Codec)> blocks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        var cids = new Cid[blocks.Count];
        for (int i = 0; i < blocks.Count; i++)
        {
            cids[i] = await PutAsync(blocks[i].Block, blocks[i].Codec, cancellationToken).ConfigureAwait(false);
        }

        return cids;
    }
}

/// <summary>
/// A mutable pointer to the newest checkpoint: a file beside the local block directory, or an IPNS name.
/// </summary>
public interface IHeadPointer
{
    /// <summary>Points the head at <paramref name="checkpoint"/>.</summary>
    ValueTask PublishAsync(Cid checkpoint, CancellationToken cancellationToken);

    /// <summary>The checkpoint the head points at, or null when nothing was published yet.</summary>
    ValueTask<Cid?> ResolveAsync(CancellationToken cancellationToken);
}
