using System.Globalization;
using System.Text;
using Stakeout.Core;
using Stakeout.Models;

namespace Stakeout.Detection.Tests;

/// <summary>
/// A small deterministic scorer for tests (never shipped): the class follows one feature, Total Fwd Packets:
/// at least 1000 is PortScan (0.8), at least 100 is DDoS (0.95), otherwise BENIGN (0.99).
/// </summary>
internal sealed class RuleScorer : IFlowScorer
{
    public const int Feature = FeatureSchema.TotalFwdPackets;

    public RuleScorer(double threshold = 0.5, int[]? features = null, string[]? classes = null)
    {
        Manifest = new ModelManifest
        {
            ModelKind = "test-rule",
            Classes = classes ?? ["BENIGN", "DDoS", "PortScan"],
            Threshold = threshold,
            Features = [.. (features ?? [Feature]).Select(f => new ManifestFeature(f, FeatureSchema.Get(f).Name))],
        };
    }

    public ModelManifest Manifest { get; }

    public IReadOnlyList<string> Classes => Manifest.Classes;

    public int BenignClassIndex => 0;

    public int Calls;

    public Func<int, bool>? FailWhen { get; init; }

    public SemaphoreSlim? Gate { get; init; }

    public void Score(ReadOnlySpan<float> features, Span<float> probabilities)
    {
        int call = Interlocked.Increment(ref Calls);
        Gate?.Wait();
        if (FailWhen?.Invoke(call) == true)
        {
            throw new InvalidOperationException("rule scorer told to fail");
        }

        int rows = features.Length / FeatureSchema.Count;
        for (int r = 0; r < rows; r++)
        {
            float v = features[(r * FeatureSchema.Count) + Feature];
            var p = probabilities.Slice(r * 3, 3);
            if (v >= 1000)
            {
                p[0] = 0.1f; p[1] = 0.1f; p[2] = 0.8f;
            }
            else if (v >= 100)
            {
                p[0] = 0.03f; p[1] = 0.95f; p[2] = 0.02f;
            }
            else
            {
                p[0] = 0.99f; p[1] = 0.005f; p[2] = 0.005f;
            }
        }
    }

    public void Explain(ReadOnlySpan<float> row, int classIndex, Span<double> contributions)
    {
        contributions.Clear();
        contributions[Feature] = row[Feature] >= 100 ? 2.5 : -2.5;
        contributions[FeatureSchema.FlowDuration] = 0.25;
        contributions[FeatureSchema.Count] = -1;
    }
}

/// <summary>CSV fixtures with the canonical header.</summary>
internal static class Csv
{
    public static readonly string[] IdentityColumns = ["Flow ID", "Source IP", "Source Port", "Destination IP", "Protocol", "Timestamp"];

    /// <summary>The header: identity columns (optional), the 78 features, Label.</summary>
    public static string Header(bool identity = true, Func<string, string>? rename = null, int? without = null)
    {
        var names = new List<string>();
        if (identity)
        {
            names.AddRange(IdentityColumns);
        }

        for (int f = 0; f < FeatureSchema.Count; f++)
        {
            if (f != without)
            {
                names.Add(rename?.Invoke(FeatureSchema.Names[f]) ?? FeatureSchema.Names[f]);
            }
        }

        names.Add("Label");
        return string.Join(',', names);
    }

    /// <summary>One row; <paramref name="fwdPackets"/> drives <see cref="RuleScorer"/>; the other features follow <paramref name="seed"/>.</summary>
    public static string Row(int seed, float fwdPackets, string source = "10.0.0.1", string destination = "192.168.10.50", int srcPort = 40000, bool identity = true, int? without = null, string label = "BENIGN", string time = "7/7/2017 3:30")
    {
        var sb = new StringBuilder();
        int port = 80;
        if (identity)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{source}-{destination}-{srcPort + seed}-{port}-6,{source},{srcPort + seed},{destination},6,{time},");
        }

        for (int f = 0; f < FeatureSchema.Count; f++)
        {
            if (f == without)
            {
                continue;
            }

            float v = f switch
            {
                FeatureSchema.DestinationPort => port,
                RuleScorer.Feature => fwdPackets,
                _ => ((seed * 31) + f) % 997,
            };
            sb.Append(v.ToString(CultureInfo.InvariantCulture)).Append(',');
        }

        sb.Append(label);
        return sb.ToString();
    }

    public static string Lines(params string[] lines) => string.Join('\n', lines) + "\n";
}

/// <summary>Collects alerts in memory (a sink for tests); optionally fails its first writes.</summary>
internal sealed class CollectingSink(int failFirst = 0) : IAlertSink
{
    private int _failuresLeft = failFirst;

    public List<Alert> Alerts { get; } = [];

    public int Attempts;

    public string Name => "collect";

    public ValueTask WriteAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Attempts);
        if (_failuresLeft > 0)
        {
            _failuresLeft--;
            throw new IOException("disk full (test)");
        }

        lock (Alerts)
        {
            Alerts.AddRange(alerts);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A source that writes byte pieces to one text feed, in order, then ends (optionally waiting first).</summary>
internal sealed class PiecesSource(string name, IEnumerable<byte[]> pieces, Func<Task>? beforeEnd = null) : IFlowSource
{
    public string Name => name;

    public async Task RunAsync(FlowSourceContext context)
    {
        var feed = context.OpenTextStream(name);
        foreach (var piece in pieces)
        {
            await feed.WriteAsync(piece);
        }

        if (beforeEnd is not null)
        {
            await beforeEnd();
        }

        await feed.CompleteAsync();
    }

    public static PiecesSource FromText(string name, string text, Func<Task>? beforeEnd = null) => new(name, [Encoding.UTF8.GetBytes(text)], beforeEnd);
}

internal static class Pipelines
{
    public static DetectionOptions Options(Func<DetectionOptions, DetectionOptions>? change = null)
    {
        var o = new DetectionOptions { AggregationWindow = TimeSpan.Zero, MaxBatchWait = TimeSpan.FromMilliseconds(1) };
        return change?.Invoke(o) ?? o;
    }

    public static DetectionPipeline Create(IFlowScorer scorer, DetectionOptions options, params IAlertSink[] sinks) =>
        new(new ModelHolder(ModelHandle.Create(scorer, options, "test-model")), options, sinks);

    public static void AssertBalanced(DetectionPipeline pipeline)
    {
        var s = pipeline.Counters.Snapshot();
        Assert.True(s.Balanced, $"in {s.FlowsIn} != scored {s.FlowsScored} + rejected {s.FlowsRejected} + dropped {s.FlowsDropped}");
    }
}
