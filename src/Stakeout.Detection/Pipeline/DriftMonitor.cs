using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Stakeout.Models.Drift;

namespace Stakeout.Detection;

/// <summary>One feature's worst drift in a run.</summary>
/// <param name="Feature">Canonical feature name.</param>
/// <param name="MaxPsi">Highest PSI it reached in any window.</param>
/// <param name="MaxDivergence">Highest out-of-profile divergence KL(window ‖ training) in any window.</param>
/// <param name="DriftedWindows">Windows in which it counted as drifted.</param>
public sealed record FeatureDriftSummary(
    [property: JsonPropertyName("feature")] string Feature,
    [property: JsonPropertyName("max_psi")] double MaxPsi,
    [property: JsonPropertyName("max_divergence")] double MaxDivergence,
    [property: JsonPropertyName("drifted_windows")] long DriftedWindows);

/// <summary>The drift checks of a run, as <c>summary.json</c> shows them.</summary>
public sealed record DriftSummary
{
    /// <summary>Flows per window.</summary>
    [JsonPropertyName("window_flows")] public int WindowFlows { get; init; }

    /// <summary>Windows judged.</summary>
    [JsonPropertyName("windows")] public long Windows { get; init; }

    /// <summary>Windows that drifted (features or anomaly share).</summary>
    [JsonPropertyName("drifted_windows")] public long DriftedWindows { get; init; }

    /// <summary>Highest PSI of any feature in any window.</summary>
    [JsonPropertyName("max_psi")] public double MaxPsi { get; init; }

    /// <summary>Highest out-of-profile divergence of any feature in any window.</summary>
    [JsonPropertyName("max_divergence")] public double MaxDivergence { get; init; }

    /// <summary>Highest share of benign-called flows with a high anomaly score in any window (null when never measured).</summary>
    [JsonPropertyName("max_anomaly_share")] public double? MaxAnomalyShare { get; init; }

    /// <summary>That share on the benign training flows.</summary>
    [JsonPropertyName("training_anomaly_share")] public double TrainingAnomalyShare { get; init; }

    /// <summary>Features that drifted in at least one window, most often first (then highest PSI).</summary>
    [JsonPropertyName("drifted_features")] public required IReadOnlyList<FeatureDriftSummary> DriftedFeatures { get; init; }

    /// <summary>The last warning logged, if any.</summary>
    [JsonPropertyName("last_warning")] public string? LastWarning { get; init; }
}

/// <summary>
/// Compares each window of scored flows with the model's training profile (<see cref="DriftWindow"/>) and logs a
/// warning naming the features that drifted. Runs in the policy stage (one thread); the counters it exposes are read
/// by <c>/metrics</c> and the summary from other threads. A model without a profile (format 1) is not checked.
/// </summary>
public sealed class DriftMonitor
{
    private readonly DriftOptions? _options;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (double MaxPsi, double MaxDivergence, long Drifted)> _features = new(StringComparer.Ordinal);
    private DriftWindow? _window;
    private ModelHandle? _model;
    private long _windows;
    private long _drifted;
    private double _maxPsi;
    private double _maxDivergence;
    private double? _maxAnomalyShare;
    private double _trainingAnomalyShare;
    private string? _lastWarning;
    private DriftReport? _last;

    /// <summary>A monitor under <paramref name="options"/> (null: off).</summary>
    public DriftMonitor(DriftOptions? options, ILogger logger)
    {
        _options = options?.Validate();
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>True when drift is checked at all (an option and a model with a profile).</summary>
    public bool Active { get; private set; }

    /// <summary>The last window's report.</summary>
    public DriftReport? Last
    {
        get
        {
            lock (_gate)
            {
                return _last;
            }
        }
    }

    /// <summary>Adds every flow of a scored batch; judges each window as it fills.</summary>
    internal void Observe(ScoringBatch batch)
    {
        var model = batch.Model;
        if (_options is null || model?.Profile is not { } profile)
        {
            return;
        }

        if (!ReferenceEquals(model, _model))
        {
            // A reloaded model brings its own profile: the window restarts against it.
            _model = model;
            _window = new DriftWindow(profile, _options, model.Anomaly is null ? double.NaN : model.AnomalyThreshold);
            _trainingAnomalyShare = profile.AnomalyShare;
            Active = true;
        }

        int k = model.Scorer.Classes.Count;
        int benign = model.Scorer.BenignClassIndex;
        var probabilities = batch.Probabilities;
        var anomaly = batch.AnomalyScores;
        for (int r = 0; r < batch.Count; r++)
        {
            _window!.Add(batch.Flows.Row(r), probabilities.Slice(r * k, k), benign, anomaly.IsEmpty ? float.NaN : anomaly[r]);
            if (_window.Full)
            {
                Judge(_window.Close());
            }
        }
    }

    /// <summary>Judges the last, partial window (at the end of a run).</summary>
    internal void Flush()
    {
        if (_window is { Flows: > 0 } w)
        {
            Judge(w.Close());
        }
    }

    /// <summary>The run's drift so far.</summary>
    public DriftSummary Summary()
    {
        lock (_gate)
        {
            return new DriftSummary
            {
                WindowFlows = _options?.WindowFlows ?? 0,
                Windows = _windows,
                DriftedWindows = _drifted,
                MaxPsi = Math.Round(_maxPsi, 4),
                MaxDivergence = Math.Round(_maxDivergence, 4),
                MaxAnomalyShare = _maxAnomalyShare,
                TrainingAnomalyShare = _trainingAnomalyShare,
                DriftedFeatures = [.. _features.Where(kv => kv.Value.Drifted > 0).OrderByDescending(kv => kv.Value.Drifted).ThenByDescending(kv => kv.Value.MaxDivergence).Select(kv => new FeatureDriftSummary(kv.Key, Math.Round(kv.Value.MaxPsi, 4), Math.Round(kv.Value.MaxDivergence, 4), kv.Value.Drifted))],
                LastWarning = _lastWarning,
            };
        }
    }

    private void Judge(DriftReport? report)
    {
        if (report is null)
        {
            return;
        }

        string? warning = report.IsDrift ? report.Describe() : null;
        lock (_gate)
        {
            _last = report;
            _windows++;
            _maxPsi = Math.Max(_maxPsi, report.MaxPsi);
            _maxDivergence = Math.Max(_maxDivergence, report.MaxDivergence);
            if (report.AnomalyShare is { } share)
            {
                _maxAnomalyShare = Math.Max(_maxAnomalyShare ?? 0, share);
            }

            foreach (var f in report.Features)
            {
                var (max, maxDivergence, drifted) = _features.GetValueOrDefault(f.Feature);
                _features[f.Feature] = (Math.Max(max, f.Psi), Math.Max(maxDivergence, f.Divergence), drifted + (f.Drifted ? 1 : 0));
            }

            if (warning is not null)
            {
                _drifted++;
                _lastWarning = warning;
            }
        }

        if (warning is not null)
        {
            Log.DriftWarning(_logger, warning);
        }
    }
}
