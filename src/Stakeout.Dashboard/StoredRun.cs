using System.Globalization;
using System.Text.Json;

namespace Stakeout.Dashboard;

/// <summary>What loading a stored run found.</summary>
/// <param name="Directory">The run's output directory.</param>
/// <param name="Files">EVE files read, oldest first.</param>
/// <param name="Lines">Lines read.</param>
/// <param name="Alerts">Alert events taken in.</param>
/// <param name="OtherEvents">Lines of other event types (skipped, counted).</param>
/// <param name="BlankLines">Empty lines.</param>
/// <param name="ModelPath">The model named by summary.json, if any.</param>
public sealed record StoredRunReport(string Directory, IReadOnlyList<string> Files, long Lines, long Alerts, long OtherEvents, long BlankLines, string? ModelPath);

/// <summary>
/// A finished <c>detect</c> or <c>monitor</c> run, read from its output directory: every alert of <c>alerts.json</c> (and
/// its rotated files, oldest first) is counted into the aggregates, the newest are kept for the stream, and
/// <c>summary.json</c> gives the totals. The time buckets are sized so the run's whole span fits the window.
/// </summary>
public static class StoredRun
{
    /// <summary>Loads <paramref name="directory"/> into a new <see cref="DashboardState"/>.</summary>
    public static (DashboardState State, StoredRunReport Report) Load(string directory, DashboardLimits limits, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(limits);
        if (!System.IO.Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"run directory '{directory}' does not exist (give the -o directory of a detect or monitor run).");
        }

        var files = EveFiles(directory);
        if (files.Count == 0)
        {
            throw new FileNotFoundException($"no alerts.json in '{directory}' (give the -o directory of a detect or monitor run).", Path.Combine(directory, "alerts.json"));
        }

        // First pass: the run's span, so the buckets cover it.
        DateTimeOffset? min = null, max = null;
        foreach (var (alert, _) in Read(files, cancellationToken))
        {
            if (alert is null)
            {
                continue;
            }

            var t = EventTime(alert);
            min = min is null || t < min ? t : min;
            max = max is null || t > max ? t : max;
        }

        var span = max is null ? TimeSpan.Zero : max.Value - min!.Value;
        double perBucketMs = Math.Max(1000, Math.Ceiling(span.TotalMilliseconds / (limits.Buckets - 1)));
        var state = new DashboardState(limits with { BucketWidth = TimeSpan.FromMilliseconds(perBucketMs) }, time, "stored", "flow time (first seen; as written in the data)");
        long lines = 0, alerts = 0, others = 0, blanks = 0;
        foreach (var (alert, kind) in Read(files, cancellationToken))
        {
            lines++;
            switch (kind)
            {
                case LineKind.Alert:
                    alerts++;
                    state.Add(alert!, EventTime(alert!));
                    break;
                case LineKind.Other:
                    others++;
                    break;
                default:
                    blanks++;
                    break;
            }
        }

        string? modelPath = null;
        string summaryPath = Path.Combine(directory, "summary.json");
        if (File.Exists(summaryPath))
        {
            modelPath = ReadSummary(summaryPath, state, time);
        }

        return (state, new StoredRunReport(directory, files, lines, alerts, others, blanks, modelPath));
    }

    private enum LineKind
    {
        Alert,
        Other,
        Blank,
    }

    private static DateTimeOffset EventTime(DashboardAlert a) =>
        AlertConversion.TryParseTime(a.FirstSeen, out var t) ? t : a.Timestamp;

    private static List<string> EveFiles(string directory)
    {
        var files = new List<string>();
        // Rotated files: alerts.json.N is older than alerts.json.(N-1); read the oldest first.
        var rotated = System.IO.Directory.EnumerateFiles(directory, "alerts.json.*")
            .Select(f => (File: f, N: int.TryParse(Path.GetExtension(f).TrimStart('.'), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : -1))
            .Where(x => x.N > 0)
            .OrderByDescending(x => x.N)
            .Select(x => x.File);
        files.AddRange(rotated);
        string current = Path.Combine(directory, "alerts.json");
        if (File.Exists(current))
        {
            files.Add(current);
        }

        return files;
    }

    private static IEnumerable<(DashboardAlert? Alert, LineKind Kind)> Read(IReadOnlyList<string> files, CancellationToken cancellationToken)
    {
        foreach (string file in files)
        {
            long n = 0;
            foreach (string line in File.ReadLines(file))
            {
                cancellationToken.ThrowIfCancellationRequested();
                n++;
                if (string.IsNullOrWhiteSpace(line))
                {
                    yield return (null, LineKind.Blank);
                    continue;
                }

                var alert = AlertConversion.FromEveLine(line, file, n);
                yield return alert is null ? (null, LineKind.Other) : (alert, LineKind.Alert);
            }
        }
    }

    private static string? ReadSummary(string path, DashboardState state, TimeProvider time)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{path}: not a JSON object.");
        }

        long Get(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;
        state.Record(new CounterSample(time.GetUtcNow(), Get("flows_in"), Get("flows_scored"), Get("flows_rejected"), Get("flows_dropped"), Get("alert_flows"), Get("alerts_emitted")));
        if (root.TryGetProperty("classes", out var classes) && classes.ValueKind == JsonValueKind.Array)
        {
            state.DeclareClasses(classes.EnumerateArray().Where(c => c.ValueKind == JsonValueKind.String).Select(c => c.GetString()!).Where(c => c != Core.LabelTaxonomy.Benign));
        }

        return root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
    }
}
