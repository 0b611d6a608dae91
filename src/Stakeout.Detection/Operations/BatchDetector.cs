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
        EnsureWritableDirectory(outputDirectory);
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

    /// <summary>
    /// Creates <paramref name="directory"/> if needed and proves a file can be created in it, so an unwritable output
    /// directory (read-only mount, no permission) fails before any flow is scored, with one error naming it.
    /// </summary>
    /// <exception cref="IOException">The directory cannot be created or written.</exception>
    public static void EnsureWritableDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        try
        {
            Directory.CreateDirectory(directory);
            using (File.Create(Path.Combine(directory, $".stakeout-write-probe-{Environment.ProcessId}"), 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"output directory '{directory}' is not writable: {ex.Message}", ex);
        }
    }

    /// <summary>Writes <paramref name="summary"/> as indented JSON.</summary>
    public static async Task WriteSummaryAsync(DetectionSummary summary, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(summary);
        // Written beside and renamed over, so a full disk leaves the old summary or none, never a truncated one.
        string partial = path + ".partial";
        try
        {
            var stream = File.Create(partial);
            await using (stream.ConfigureAwait(false))
            {
                await JsonSerializer.SerializeAsync(stream, summary, SummaryJson, cancellationToken).ConfigureAwait(false);
            }

            File.Move(partial, path, overwrite: true);
        }
        catch (Exception) when (File.Exists(partial))
        {
            File.Delete(partial);
            throw;
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
