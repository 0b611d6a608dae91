using Stakeout.Ingest;

namespace Stakeout.Detection;

/// <summary>
/// Flow CSV files read by the batch reader (<see cref="FlowCsvReader"/>: parallel parsing, every layout, directories,
/// .gz and .zip) and handed to the pipeline parsed; used by <c>stakeout detect</c>. The reader's rejects and drops are
/// reported to the pipeline so its accounting matches the reader's.
/// </summary>
public sealed class FlowFilesSource(IReadOnlyList<string> paths, FlowReaderOptions? options = null) : IFlowSource
{
    private readonly IReadOnlyList<string> _paths = paths is { Count: > 0 } ? paths : throw new ArgumentException("at least one path is required.", nameof(paths));
    private readonly FlowReaderOptions _options = (options ?? new FlowReaderOptions()).Validate();

    /// <inheritdoc />
    public string Name => string.Join(' ', _paths);

    /// <summary>The reader's report, complete once the source has run.</summary>
    public ReadReport? Report { get; private set; }

    /// <inheritdoc />
    public async Task RunAsync(FlowSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // A file that lacks a feature the model reads fails at once, naming the features (the reader checks its header).
        var options = _options with { RequiredFeatures = [.. _options.RequiredFeatures.Union(context.Model?.RequiredFeatures ?? [])] };
        var read = new FlowCsvReader(options).Open(_paths);
        Report = read.Report;
        foreach (var batch in read.ReadBatches(cancellationToken: context.Stopping))
        {
            if (context.LimitReached)
            {
                break;
            }

            await context.WriteFlowsAsync(batch, read.Inputs[batch.SourceIndex].DisplayName).ConfigureAwait(false);
        }

        context.ReportUnusedRows(
            read.Report.RejectedByReason.ToDictionary(kv => Code(kv.Key), kv => kv.Value, StringComparer.Ordinal),
            read.Report.DroppedByReason.ToDictionary(kv => Code(kv.Key), kv => kv.Value, StringComparer.Ordinal));
    }

    private static string Code<T>(T value) where T : struct, Enum => System.Text.Json.JsonSerializer.Serialize(value).Trim('"');
}
