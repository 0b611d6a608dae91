using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Stakeout.Ingest;

namespace Stakeout.Detection;

/// <summary>
/// <c>stakeout detect</c>: scores flow files with a loaded model through the same pipeline as the monitor (so both
/// alert on the same flows), writing <c>alerts.json</c> (EVE lines), <c>malicious_ips.log</c> and <c>summary.json</c>
/// into the output directory. Aggregation windows close on flow time only, so the output depends on the data alone.
/// </summary>
public static class BatchDetector
{
    /// <summary>Runs detection over <paramref name="paths"/>; returns the summary (also written as summary.json).</summary>
    public static async Task<DetectionSummary> RunAsync(
        ModelHandle model,
        IReadOnlyList<string> paths,
        string outputDirectory,
        DetectionOptions options,
        FlowReaderOptions? readerOptions = null,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(outputDirectory);
        var sinks = AlertSinkRegistry.CreateDefault().Create(
            ["eve", "seed-logs"],
            new SinkSettings { OutputDirectory = outputDirectory, EveMaxBytes = long.MaxValue, EveKeepFiles = 0 });
        File.Delete(Path.Combine(outputDirectory, "alerts.json"));
        var pipeline = new DetectionPipeline(new ModelHolder(model), options, sinks, TimeProvider.System, logger, closeAggregatesOnClock: false);
        var source = new FlowFilesSource(paths, readerOptions);
        var clock = Stopwatch.StartNew();
        await pipeline.RunAsync([source], cancellationToken).ConfigureAwait(false);
        var summary = DetectionSummary.From(pipeline, clock.Elapsed, source.Report);
        await WriteSummaryAsync(summary, Path.Combine(outputDirectory, "summary.json"), cancellationToken).ConfigureAwait(false);
        return summary;
    }

    /// <summary>Writes <paramref name="summary"/> as indented JSON.</summary>
    public static async Task WriteSummaryAsync(DetectionSummary summary, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var stream = File.Create(path);
        await using (stream.ConfigureAwait(false))
        {
            await JsonSerializer.SerializeAsync(stream, summary, SummaryJson, cancellationToken).ConfigureAwait(false);
        }
    }

    private static readonly JsonSerializerOptions SummaryJson = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
