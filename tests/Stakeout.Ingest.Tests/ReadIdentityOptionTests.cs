using System.Text;
using Stakeout.Core;

namespace Stakeout.Ingest.Tests;

/// <summary><see cref="FlowReaderOptions.ReadIdentity"/>: training reads without identity, with the same features and labels.</summary>
public sealed class ReadIdentityOptionTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"stakeout-identity-{Guid.NewGuid():N}.csv");

    public ReadIdentityOptionTests()
    {
        // TrafficLabelling layout: identity columns, Destination Port, the 77 other features, Label. Row 3 has a bad address.
        var header = new StringBuilder("Flow ID, Source IP, Source Port, Destination IP, Destination Port, Protocol, Timestamp");
        foreach (string name in FeatureSchema.Names.Skip(1))
        {
            header.Append(", ").Append(name);
        }

        string features = string.Join(",", Enumerable.Range(1, FeatureSchema.Count - 1));
        File.WriteAllText(_path, header.Append(", Label\n")
            + $"192.168.10.5-8.8.8.8-54865-53-17,192.168.10.5,54865,8.8.8.8,53,17,7/7/2017 3:30,{features},BENIGN\n"
            + $"172.16.0.1-192.168.10.50-40000-80-6,172.16.0.1,40000,192.168.10.50,80,6,7/7/2017 3:31,{features},DDoS\n"
            + $"bad,192.168.10.999,1,8.8.8.8,53,17,7/7/2017 3:32,{features},BENIGN\n");
    }

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void ReadBatches_ReadIdentityFalse_SameFeaturesAndLabelsWithoutIdentity()
    {
        var (withIdentity, withReport) = ReadAll(new FlowReaderOptions());
        var (without, withoutReport) = ReadAll(new FlowReaderOptions { ReadIdentity = false });

        Assert.NotNull(withIdentity[0].Identities);
        Assert.Equal(54865, withIdentity[0].Identities![0].SourcePort);
        Assert.Equal("192.168.10.5-8.8.8.8-54865-53-17", withIdentity[0].FlowIds![0]);
        Assert.All(without, b => Assert.Null(b.Identities));
        Assert.All(without, b => Assert.Null(b.FlowIds));

        // The identity columns are not checked any more, so the row with a bad address is used instead of rejected.
        Assert.Equal(1, withReport.RowsRejected);
        Assert.Equal(2, withReport.RowsUsed);
        Assert.Equal(0, withoutReport.RowsRejected);
        Assert.Equal(3, withoutReport.RowsUsed);
        Assert.True(withoutReport.IsBalanced);

        var a = withIdentity.Single();
        var b = without.Single();
        for (int r = 0; r < a.Count; r++)
        {
            Assert.Equal(a.Row(r).ToArray(), b.Row(r).ToArray());
            Assert.Equal(withReport.Labels[a.LabelIds[r]].Name, withoutReport.Labels[b.LabelIds[r]].Name);
            Assert.Equal(a.Lines[r], b.Lines[r]);
        }

        Assert.Equal(53f, b.Row(0)[FeatureSchema.DestinationPort]);
    }

    private (List<FlowBatch> Batches, ReadReport Report) ReadAll(FlowReaderOptions options)
    {
        var read = new FlowCsvReader(options).Open([_path]);
        var batches = read.ReadBatches().ToList();
        return (batches, read.Report);
    }
}
