using System.Text;

namespace Stakeout.Cluster.Tests;

public sealed class JsonlAlertStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-store-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Alert(int n) => Encoding.UTF8.GetBytes($"{{\"event_type\":\"alert\",\"n\":{n}}}");

    [Fact]
    public void AppendIfNew_SameIdTwice_StoredOnce()
    {
        using var store = new JsonlAlertStore(_dir);

        Assert.True(store.AppendIfNew("b.1", Alert(1)));
        Assert.False(store.AppendIfNew("b.1", Alert(1)));
        Assert.True(store.AppendIfNew("b.2", Alert(2)));
        store.Flush();

        Assert.Equal(2, store.Count);
        var records = JsonlAlertStore.ReadAll(store.Path).ToList();
        Assert.Equal([1L, 2L], records.Select(r => r.Seq));
        Assert.Equal(["b.1", "b.2"], records.Select(r => r.AlertId));
        Assert.Equal(2, records[1].Alert.GetProperty("n").GetInt32());
    }

    [Fact]
    public void Open_ExistingStore_StillDeduplicatesAndContinuesTheSequence()
    {
        using (var store = new JsonlAlertStore(_dir))
        {
            store.AppendIfNew("a", Alert(1));
            store.AppendIfNew("b", Alert(2));
        }

        using var reopened = new JsonlAlertStore(_dir);

        Assert.False(reopened.AppendIfNew("a", Alert(1)));
        Assert.True(reopened.AppendIfNew("c", Alert(3)));
        reopened.Flush();
        Assert.Equal([1L, 2L, 3L], JsonlAlertStore.ReadAll(reopened.Path).Select(r => r.Seq));
    }

    [Fact]
    public void Open_TornLastLine_CutOffAndThatIdAcceptedAgain()
    {
        using (var store = new JsonlAlertStore(_dir))
        {
            store.AppendIfNew("a", Alert(1));
        }

        File.AppendAllText(Path.Combine(_dir, "alerts.jsonl"), "{\"seq\":2,\"alert_id\":\"b\",\"al");

        using var reopened = new JsonlAlertStore(_dir);

        Assert.True(reopened.TruncatedBytes > 0);
        Assert.Equal(1, reopened.Count);
        Assert.True(reopened.AppendIfNew("b", Alert(2)));
        reopened.Flush();
        Assert.Equal(["a", "b"], JsonlAlertStore.ReadAll(reopened.Path).Select(r => r.AlertId));
    }

    [Fact]
    public void Open_SequenceGap_ErrorNamesFileLineAndField()
    {
        File.WriteAllText(Path.Combine(_dir, "alerts.jsonl"), "{\"seq\":1,\"alert_id\":\"a\",\"alert\":{}}\n{\"seq\":3,\"alert_id\":\"b\",\"alert\":{}}\n");

        var ex = Assert.Throws<InvalidDataException>(() => new JsonlAlertStore(_dir));

        Assert.Contains("alerts.jsonl:2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("seq is 3, expected 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_DuplicateId_ErrorNamesTheLine()
    {
        File.WriteAllText(Path.Combine(_dir, "alerts.jsonl"), "{\"seq\":1,\"alert_id\":\"a\",\"alert\":{}}\n{\"seq\":2,\"alert_id\":\"a\",\"alert\":{}}\n");

        var ex = Assert.Throws<InvalidDataException>(() => new JsonlAlertStore(_dir));

        Assert.Contains("alerts.jsonl:2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'a' appears a second time", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_SecondWriterOnSameDirectory_Refused()
    {
        using var first = new JsonlAlertStore(_dir);

        var ex = Assert.Throws<IOException>(() => new JsonlAlertStore(_dir));

        Assert.Contains("another ledger writer", ex.Message, StringComparison.Ordinal);
    }
}
