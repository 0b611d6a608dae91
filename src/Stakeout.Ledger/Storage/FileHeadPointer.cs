namespace Stakeout.Ledger.Storage;

/// <summary>
/// The head pointer of a local ledger: the file <c>DIR/head</c> holding the newest checkpoint's CID, replaced atomically
/// (temporary file, fsync, rename, directory fsync), so after a crash it names either the old or the new checkpoint.
/// </summary>
public sealed class FileHeadPointer : IHeadPointer
{
    private readonly string _directory;

    /// <summary>The head of the ledger in <paramref name="directory"/>.</summary>
    public FileHeadPointer(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        _directory = Path.GetFullPath(directory);
        FilePath = Path.Combine(_directory, "head");
    }

    /// <summary>The head file.</summary>
    public string FilePath { get; }

    /// <inheritdoc />
    public async ValueTask PublishAsync(Cid checkpoint, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_directory);
        string temp = Path.Combine(_directory, ".head-" + Guid.NewGuid().ToString("N"));
        try
        {
            var stream = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write });
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(checkpoint + "\n"), cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, FilePath, overwrite: true);
            Fsync.Directory(_directory);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">The head file does not hold a CID.</exception>
    public async ValueTask<Cid?> ResolveAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(FilePath))
        {
            return null;
        }

        // Strict: exactly one CID and a newline, so any change to the file is noticed rather than trimmed away.
        string text = await File.ReadAllTextAsync(FilePath, cancellationToken).ConfigureAwait(false);
        if (!text.EndsWith('\n') || text.IndexOf('\n', StringComparison.Ordinal) != text.Length - 1)
        {
            throw new InvalidDataException($"{FilePath}: the head is not one CID on one line.");
        }

        return Cid.TryParse(text[..^1], out var cid, out string? error) && cid.ToString() == text[..^1]
            ? cid
            : throw new InvalidDataException($"{FilePath}: the head does not name a checkpoint CID in its canonical form ({error ?? "not lower-case base32"}).");
    }

    /// <summary>Deletes temporary head files a crash left behind.</summary>
    public void RemoveTemporaryFiles()
    {
        if (Directory.Exists(_directory))
        {
            foreach (string file in Directory.EnumerateFiles(_directory, ".head-*"))
            {
                File.Delete(file);
            }
        }
    }
}
