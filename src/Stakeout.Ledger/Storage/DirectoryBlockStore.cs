namespace Stakeout.Ledger.Storage;

/// <summary>
/// Blocks as files under <c>DIR/blocks/XY/CID</c>, where XY are the two characters before the CID's last (the flatfs
/// "next-to-last/2" fan-out IPFS uses, so no directory grows past ~1 k entries per million blocks). A block is written to
/// a temporary file in the same directory, fsynced, renamed into place and the directory fsynced: a crash leaves either
/// the whole block or a <c>.tmp-*</c> file, which <see cref="RemoveTemporaryFiles"/> deletes on the next open.
/// </summary>
public sealed class DirectoryBlockStore : IBlockStore
{
    private readonly string _blocks;

    /// <summary>A store in <paramref name="directory"/> (the ledger directory; blocks go under its <c>blocks/</c>).</summary>
    public DirectoryBlockStore(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
        _blocks = Path.Combine(Directory, "blocks");
    }

    /// <summary>The ledger directory.</summary>
    public string Directory { get; }

    /// <inheritdoc />
    public string Name => Directory;

    /// <summary>The file that holds (or would hold) <paramref name="cid"/>.</summary>
    public string PathOf(Cid cid)
    {
        string text = cid.ToString();
        return Path.Combine(_blocks, text.Substring(text.Length - 3, 2), text);
    }

    /// <summary>Every block file stored (for tests and garbage checks).</summary>
    public IEnumerable<string> BlockFiles() =>
        System.IO.Directory.Exists(_blocks)
            ? System.IO.Directory.EnumerateFiles(_blocks, "b*", SearchOption.AllDirectories)
            : [];

    /// <summary>Deletes the temporary files a crash left half-written; returns how many.</summary>
    public int RemoveTemporaryFiles()
    {
        if (!System.IO.Directory.Exists(_blocks))
        {
            return 0;
        }

        int removed = 0;
        foreach (string file in System.IO.Directory.EnumerateFiles(_blocks, ".tmp-*", SearchOption.AllDirectories))
        {
            File.Delete(file);
            removed++;
        }

        return removed;
    }

    /// <inheritdoc />
    public async ValueTask<Cid> PutAsync(ReadOnlyMemory<byte> block, ulong codec, CancellationToken cancellationToken)
    {
        var cids = await PutManyAsync([(block, codec)], cancellationToken).ConfigureAwait(false);
        return cids[0];
    }

    /// <summary>
    /// Writes every block to a temporary file and fsyncs them all in parallel (one round of disk latency rather than
    /// one per block), then renames them into place and fsyncs their directories.
    /// </summary>
    public async ValueTask<IReadOnlyList<Cid>> PutManyAsync(IReadOnlyList<(ReadOnlyMemory<byte> Block, ulong Codec)> blocks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        var cids = new Cid[blocks.Count];
        var pending = new List<(string Temp, string Final, ReadOnlyMemory<byte> Block)>(blocks.Count);
        for (int i = 0; i < blocks.Count; i++)
        {
            cids[i] = Cid.Of(blocks[i].Block.Span, blocks[i].Codec);
            string final = PathOf(cids[i]);
            if (!File.Exists(final) && !pending.Exists(p => p.Final == final))
            {
                pending.Add((Path.Combine(Path.GetDirectoryName(final)!, ".tmp-" + Guid.NewGuid().ToString("N")), final, blocks[i].Block));
            }
        }

        if (pending.Count == 0)
        {
            return cids;
        }

        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, pending.Count), cancellationToken, async (i, ct) =>
            {
                var (temp, _, block) = pending[i];
                System.IO.Directory.CreateDirectory(Path.GetDirectoryName(temp)!);
                var stream = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous });
                await using (stream.ConfigureAwait(false))
                {
                    await stream.WriteAsync(block, ct).ConfigureAwait(false);
                    stream.Flush(flushToDisk: true);
                }
            }).ConfigureAwait(false);

            foreach (var (temp, final, _) in pending)
            {
                File.Move(temp, final, overwrite: true);
            }

            foreach (string dir in pending.Select(p => Path.GetDirectoryName(p.Final)!).Distinct(StringComparer.Ordinal))
            {
                Fsync.Directory(dir);
            }

            Fsync.Directory(_blocks);
        }
        finally
        {
            foreach (var (temp, _, _) in pending)
            {
                if (File.Exists(temp))
                {
                    File.Delete(temp);
                }
            }
        }

        return cids;
    }

    /// <inheritdoc />
    public async ValueTask<byte[]?> GetAsync(Cid cid, CancellationToken cancellationToken)
    {
        string path = PathOf(cid);
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }
}
