using System.Text;
using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Ipfs.Tests;

public sealed class ReplicationJournalTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "stakeout-journal-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ReplicationEntry Block(int i) => new(ReplicationKind.Block, Cid.Of(Encoding.ASCII.GetBytes("block " + i)));

    private static ReplicationEntry Head(int i) => new(ReplicationKind.Head, Cid.Of(Encoding.ASCII.GetBytes("checkpoint " + i)));

    [Fact]
    public void Open_AfterRestartWithPendingEntries_ReturnsThemInOrder()
    {
        using (var journal = ReplicationJournal.Open(_dir, "http://127.0.0.1:5001"))
        {
            journal.Enqueue([Block(1), Block(2), Head(2), Block(3)]);
            journal.Acknowledge(1);
        }

        using var reopened = ReplicationJournal.Open(_dir, "http://127.0.0.1:5001");

        Assert.Equal(3, reopened.Pending);
        Assert.Equal([Block(2), Head(2), Block(3)], reopened.Peek(10));
    }

    [Fact]
    public void Acknowledge_Everything_EmptiesTheJournalAndStaysEmptyAfterRestart()
    {
        using (var journal = ReplicationJournal.Open(_dir, "node"))
        {
            journal.Enqueue([Block(1), Block(2)]);
            journal.Acknowledge(2);
            Assert.Equal(0, journal.Pending);
        }

        Assert.Equal(0, new FileInfo(Path.Combine(_dir, "journal")).Length);
        using var reopened = ReplicationJournal.Open(_dir, "node");
        Assert.Equal(0, reopened.Pending);
        reopened.Enqueue(Block(3));
        Assert.Equal([Block(3)], reopened.Peek(5));
    }

    [Fact]
    public void Open_LastLineCutShortByACrash_DropsOnlyThatLine()
    {
        using (var journal = ReplicationJournal.Open(_dir, "node"))
        {
            journal.Enqueue([Block(1), Block(2)]);
        }

        File.AppendAllText(Path.Combine(_dir, "journal"), "B bafkrei");

        using var reopened = ReplicationJournal.Open(_dir, "node");

        Assert.Equal([Block(1), Block(2)], reopened.Peek(10));
        reopened.Enqueue(Block(3));
        Assert.Equal([Block(1), Block(2), Block(3)], reopened.Peek(10));
    }

    [Fact]
    public void Open_DamagedLine_ThrowsNamingTheFileAndLine()
    {
        using (var journal = ReplicationJournal.Open(_dir, "node"))
        {
            journal.Enqueue([Block(1), Block(2)]);
        }

        string path = Path.Combine(_dir, "journal");
        string[] lines = File.ReadAllLines(path);
        lines[1] = "X " + lines[1][2..];
        File.WriteAllText(path, string.Join('\n', lines) + "\n");

        var error = Assert.Throws<InvalidDataException>(() => ReplicationJournal.Open(_dir, "node"));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_QueueOfAnotherNode_Throws()
    {
        using (ReplicationJournal.Open(_dir, "http://127.0.0.1:5001"))
        {
        }

        var error = Assert.Throws<InvalidDataException>(() => ReplicationJournal.Open(_dir, "http://127.0.0.1:5002"));

        Assert.Contains("http://127.0.0.1:5001", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Acknowledge_MoreThanPending_Throws()
    {
        using var journal = ReplicationJournal.Open(_dir, "node");
        journal.Enqueue(Block(1));

        Assert.Throws<ArgumentOutOfRangeException>(() => journal.Acknowledge(2));
        Assert.Equal(1, journal.Pending);
    }

    [Fact]
    public void Open_CursorPastTheJournal_Throws()
    {
        using (var journal = ReplicationJournal.Open(_dir, "node"))
        {
            journal.Enqueue(Block(1));
        }

        File.WriteAllText(Path.Combine(_dir, "cursor"), "9999\n");

        var error = Assert.Throws<InvalidDataException>(() => ReplicationJournal.Open(_dir, "node"));
        Assert.Contains("cursor", error.Message, StringComparison.Ordinal);
    }
}
