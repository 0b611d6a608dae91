using System.Globalization;
using System.Text;
using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Ipfs;

/// <summary>What a queue entry asks the remote to do.</summary>
public enum ReplicationKind
{
    /// <summary>Store the block (read from the local store) on the node.</summary>
    Block,

    /// <summary>Point the node's IPNS name at this checkpoint; queued after the blocks it needs.</summary>
    Head,
}

/// <summary>One pending replication step.</summary>
/// <param name="Kind">Block or head.</param>
/// <param name="Cid">The block, or the checkpoint the head points at.</param>
public readonly record struct ReplicationEntry(ReplicationKind Kind, Cid Cid);

/// <summary>
/// The durable queue of what is still to be pushed to one IPFS node: a directory holding an append-only
/// <c>journal</c> (one <c>B CID</c> or <c>H CID</c> line per step, fsynced before an enqueue returns) and a
/// <c>cursor</c> file (the journal offset of the first step not yet acknowledged by the node, replaced atomically).
/// After a crash or restart the steps past the cursor are pending again; a line cut short by a crash was never
/// acknowledged to the caller and is dropped. Steps are pushed at least once and in order (a re-push after a lost cursor
/// update is harmless: blocks are content-addressed, a head is republished). When everything is acknowledged the
/// journal is emptied. Thread-safe.
/// </summary>
public sealed class ReplicationJournal : IDisposable
{
    private const string JournalFile = "journal";
    private const string CursorFile = "cursor";
    private const string RemoteFile = "remote";

    private readonly Lock _gate = new();
    private readonly FileStream _journal;
    private readonly List<(ReplicationEntry Entry, long End)> _pending = [];
    private int _pendingStart;
    private long _cursor;
    private bool _disposed;

    private ReplicationJournal(string directory, string remote, FileStream journal, long cursor, List<(ReplicationEntry, long)> pending)
    {
        Directory = directory;
        Remote = remote;
        _journal = journal;
        _cursor = cursor;
        _pending = pending;
    }

    /// <summary>The queue's directory.</summary>
    public string Directory { get; }

    /// <summary>The node this queue feeds, as given when it was first opened.</summary>
    public string Remote { get; }

    /// <summary>Steps not yet acknowledged by the node.</summary>
    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count - _pendingStart;
            }
        }
    }

    /// <summary>
    /// Opens (or creates) the queue in <paramref name="directory"/> for the node <paramref name="remote"/>, recovering
    /// the steps a previous run left pending.
    /// </summary>
    /// <exception cref="InvalidDataException">The journal or cursor is damaged; the message names the file and line.</exception>
    public static ReplicationJournal Open(string directory, string remote)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(remote);
        System.IO.Directory.CreateDirectory(directory);
        string remotePath = Path.Combine(directory, RemoteFile);
        if (File.Exists(remotePath))
        {
            string recorded = File.ReadAllText(remotePath).Trim();
            if (!string.Equals(recorded, remote, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{remotePath}: this replication queue belongs to {recorded}, not {remote}.");
            }
        }
        else
        {
            WriteDurably(remotePath, remote + "\n");
        }

        string cursorPath = Path.Combine(directory, CursorFile);
        long cursor = 0;
        if (File.Exists(cursorPath))
        {
            string text = File.ReadAllText(cursorPath).Trim();
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out cursor))
            {
                throw new InvalidDataException($"{cursorPath}: line 1 should be a byte offset into the journal, not '{text}'.");
            }
        }

        string journalPath = Path.Combine(directory, JournalFile);
        var journal = new FileStream(journalPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 4096, FileOptions.None);
        try
        {
            var pending = Recover(journal, journalPath, ref cursor);
            journal.Seek(0, SeekOrigin.End);
            return new ReplicationJournal(directory, remote, journal, cursor, pending);
        }
        catch
        {
            journal.Dispose();
            throw;
        }
    }

    /// <summary>Appends <paramref name="entries"/> and makes them durable (one fsync) before returning.</summary>
    public void Enqueue(ReadOnlySpan<ReplicationEntry> entries)
    {
        if (entries.IsEmpty)
        {
            return;
        }

        var text = new StringBuilder(entries.Length * 64);
        foreach (var e in entries)
        {
            text.Append(e.Kind == ReplicationKind.Block ? 'B' : 'H').Append(' ').Append(e.Cid.ToString()).Append('\n');
        }

        byte[] bytes = Encoding.ASCII.GetBytes(text.ToString());
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            long at = _journal.Length;
            _journal.Seek(at, SeekOrigin.Begin);
            _journal.Write(bytes);
            _journal.Flush(flushToDisk: true);
            foreach (var e in entries)
            {
                at += 2 + e.Cid.ToString().Length + 1;
                _pending.Add((e, at));
            }
        }
    }

    /// <summary>Appends one step durably.</summary>
    public void Enqueue(ReplicationEntry entry) => Enqueue([entry]);

    /// <summary>Up to <paramref name="max"/> of the oldest pending steps, oldest first (they stay pending).</summary>
    public IReadOnlyList<ReplicationEntry> Peek(int max)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        lock (_gate)
        {
            int count = Math.Min(max, _pending.Count - _pendingStart);
            var result = new ReplicationEntry[count];
            for (int i = 0; i < count; i++)
            {
                result[i] = _pending[_pendingStart + i].Entry;
            }

            return result;
        }
    }

    /// <summary>
    /// Marks the <paramref name="count"/> oldest pending steps as done on the node and persists the cursor; empties the
    /// journal when nothing is left.
    /// </summary>
    public void Acknowledge(int count)
    {
        if (count == 0)
        {
            return;
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (count < 0 || count > _pending.Count - _pendingStart)
            {
                throw new ArgumentOutOfRangeException(nameof(count), count, $"Only {_pending.Count - _pendingStart} steps are pending in {Directory}.");
            }

            _pendingStart += count;
            if (_pendingStart == _pending.Count)
            {
                // Cursor first: a crash between the two writes leaves cursor 0 over the old lines, which are pushed
                // again (harmless) rather than a cursor past the end of an emptied journal.
                _cursor = 0;
                WriteDurably(Path.Combine(Directory, CursorFile), "0\n");
                _journal.SetLength(0);
                _journal.Flush(flushToDisk: true);
                _pending.Clear();
                _pendingStart = 0;
                return;
            }

            _cursor = _pending[_pendingStart - 1].End;
            WriteDurably(Path.Combine(Directory, CursorFile), _cursor.ToString(CultureInfo.InvariantCulture) + "\n");
            if (_pendingStart > 4096)
            {
                _pending.RemoveRange(0, _pendingStart);
                _pendingStart = 0;
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _journal.Dispose();
        }
    }

    private static List<(ReplicationEntry, long)> Recover(FileStream journal, string path, ref long cursor)
    {
        byte[] bytes = new byte[journal.Length];
        journal.Seek(0, SeekOrigin.Begin);
        journal.ReadExactly(bytes);

        int end = bytes.AsSpan().LastIndexOf((byte)'\n') + 1;
        if (end < bytes.Length)
        {
            // A line cut short by a crash: its enqueue never returned, so nobody was told it was queued.
            journal.SetLength(end);
            journal.Flush(flushToDisk: true);
        }

        if (cursor > end)
        {
            throw new InvalidDataException($"{Path.Combine(Path.GetDirectoryName(path)!, CursorFile)}: the cursor {cursor} is past the end of the journal ({end} bytes).");
        }

        if (cursor > 0 && bytes[cursor - 1] != (byte)'\n')
        {
            throw new InvalidDataException($"{Path.Combine(Path.GetDirectoryName(path)!, CursorFile)}: the cursor {cursor} is not at the start of a journal line.");
        }

        var pending = new List<(ReplicationEntry, long)>();
        int line = 1 + bytes.AsSpan(0, (int)cursor).Count((byte)'\n');
        int at = (int)cursor;
        while (at < end)
        {
            int nl = bytes.AsSpan(at, end - at).IndexOf((byte)'\n');
            string text = Encoding.ASCII.GetString(bytes, at, nl);
            if (text.Length < 3 || (text[0] != 'B' && text[0] != 'H') || text[1] != ' ' || !Cid.TryParse(text[2..], out var cid, out _))
            {
                throw new InvalidDataException($"{path}: line {line} should be 'B CID' or 'H CID', not '{text}'.");
            }

            at += nl + 1;
            pending.Add((new ReplicationEntry(text[0] == 'B' ? ReplicationKind.Block : ReplicationKind.Head, cid), at));
            line++;
        }

        return pending;
    }

    private static void WriteDurably(string path, string text)
    {
        string temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(Encoding.UTF8.GetBytes(text));
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }
}
