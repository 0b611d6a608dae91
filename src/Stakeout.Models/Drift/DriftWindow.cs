using System.Globalization;
using Stakeout.Core;

namespace Stakeout.Models.Drift;

/// <summary>When a window of flows counts as drifted.</summary>
public sealed record DriftOptions
{
    /// <summary>Flows per window.</summary>
    public int WindowFlows { get; init; } = 1000;

    /// <summary>A last, partial window is judged only with at least this many flows.</summary>
    public int MinFlows { get; init; } = 10;

    /// <summary>
    /// Out-of-profile divergence KL(window ‖ training) at or above which a feature has drifted; raised for small windows
    /// (see <see cref="DriftWindow"/>). 1.0 means the window puts its mass where training had, on the log scale, e (2.7)
    /// times less: a window inside part of the training distribution (a burst of one kind of flow) stays below it.
    /// </summary>
    public double DivergenceThreshold { get; init; } = 1.0;

    /// <summary>Share of benign-called flows with a high anomaly score at or above which the window is out of distribution.</summary>
    public double AnomalyShareThreshold { get; init; } = 0.10;

    /// <summary>The anomaly share is judged only with at least this many benign-called flows in the window.</summary>
    public int MinBenignFlows { get; init; } = 20;

    /// <summary>Checks the options; throws naming the option at fault.</summary>
    public DriftOptions Validate()
    {
        if (WindowFlows < 10)
        {
            throw new ArgumentOutOfRangeException(nameof(WindowFlows), WindowFlows, "--drift-window must be at least 10 flows.");
        }

        if (MinFlows < 10 || MinFlows > WindowFlows)
        {
            throw new ArgumentOutOfRangeException(nameof(MinFlows), MinFlows, "the minimum drift window must be 10 flows or more and at most --drift-window.");
        }

        if (!(DivergenceThreshold > 0) || !double.IsFinite(DivergenceThreshold))
        {
            throw new ArgumentOutOfRangeException(nameof(DivergenceThreshold), DivergenceThreshold, "the drift divergence threshold must be a positive number.");
        }

        if (!(AnomalyShareThreshold is > 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(AnomalyShareThreshold), AnomalyShareThreshold, "--drift-anomaly-share must be in (0, 1].");
        }

        return this;
    }
}

/// <summary>One feature's comparison in a window.</summary>
/// <param name="Feature">Canonical feature name.</param>
/// <param name="Psi">Population stability index of the window against the training mixture: KL(o‖e) + KL(e‖o).</param>
/// <param name="Divergence">Its out-of-profile part KL(o‖e): mass the window puts where training had little.</param>
/// <param name="Critical">The divergence this window needed to count as drifted (the option, or more for a small window).</param>
public sealed record FeatureDrift(string Feature, double Psi, double Divergence, double Critical)
{
    /// <summary>True when <see cref="Divergence"/> reached <see cref="Critical"/>.</summary>
    public bool Drifted => Divergence >= Critical;
}

/// <summary>The verdict on one window of flows.</summary>
public sealed record DriftReport
{
    /// <summary>1-based window number.</summary>
    public required long Window { get; init; }

    /// <summary>Flows in it.</summary>
    public required int Flows { get; init; }

    /// <summary>Every profiled feature, highest divergence first.</summary>
    public required IReadOnlyList<FeatureDrift> Features { get; init; }

    /// <summary>The features that drifted, highest divergence first.</summary>
    public IReadOnlyList<FeatureDrift> Drifted => [.. Features.Where(f => f.Drifted)];

    /// <summary>Highest PSI of any feature.</summary>
    public double MaxPsi => Features.Count == 0 ? 0 : Features.Max(f => f.Psi);

    /// <summary>Highest out-of-profile divergence of any feature.</summary>
    public double MaxDivergence => Features.Count == 0 ? 0 : Features[0].Divergence;

    /// <summary>Flows the classifier called benign.</summary>
    public required int BenignFlows { get; init; }

    /// <summary>Share of those with an anomaly score at or above the anomaly threshold (null without an anomaly model or enough benign-called flows).</summary>
    public double? AnomalyShare { get; init; }

    /// <summary>That share on the benign training flows.</summary>
    public double ExpectedAnomalyShare { get; init; }

    /// <summary>True when the anomaly share reached its threshold.</summary>
    public bool AnomalyDrift { get; init; }

    /// <summary>True when any feature drifted or the anomaly share is too high.</summary>
    public bool IsDrift => AnomalyDrift || Features.Any(f => f.Drifted);

    /// <summary>One line for a log: what drifted, by how much.</summary>
    public string Describe(int top = 5)
    {
        var c = CultureInfo.InvariantCulture;
        var drifted = Drifted;
        var parts = new List<string>();
        if (drifted.Count > 0)
        {
            parts.Add(string.Create(c, $"{drifted.Count} feature(s) differ from the training data: {string.Join(", ", drifted.Take(top).Select(f => string.Create(c, $"{f.Feature} (PSI {f.Psi:F2}, divergence {f.Divergence:F2})")))}{(drifted.Count > top ? ", ..." : "")}"));
        }

        if (AnomalyShare is { } share && AnomalyDrift)
        {
            parts.Add(string.Create(c, $"{share:P1} of the flows called BENIGN have a high anomaly score (training: {ExpectedAnomalyShare:P1})"));
        }

        return parts.Count == 0
            ? string.Create(c, $"window {Window} ({Flows:N0} flows): like the training data (highest divergence {MaxDivergence:F3}, PSI {MaxPsi:F3})")
            : string.Create(c, $"window {Window} ({Flows:N0} flows): {string.Join("; ", parts)}");
    }
}

/// <summary>
/// Accumulates one window of scored flows against a <see cref="TrainingProfile"/> and judges it: per feature, the
/// population stability index PSI = Σ (o − e)·ln(o / e) between the window's bin shares o and the shares e of the
/// training classes mixed in the proportions of the window's own class probabilities (each share floored at 1e-4).
/// PSI is KL(o‖e) + KL(e‖o); the second term grows when the window lacks some of training's modes, which any burst of
/// consecutive flows does (a window of one bot's C2 traffic), so the verdict uses the first, out-of-profile part: the
/// G-test statistic 2n·KL(o‖e) is roughly χ² with bins − 1 degrees of freedom without drift, so a window of n flows
/// needs max(threshold, χ²₀.₉₉₉(bins − 1) / 2n) for a feature to count as drifted: a small window does not warn on noise.
/// Not thread-safe: one per pipeline stage. Adding a flow allocates nothing.
/// </summary>
public sealed class DriftWindow
{
    private const double Floor = 1e-4;
    private readonly TrainingProfile _profile;
    private readonly DriftOptions _options;
    private readonly float[][] _edges;
    private readonly int[] _offsets;
    private readonly int[] _counts;
    private readonly double[] _classWeight;
    private readonly double _anomalyThreshold;
    private int _flows;
    private int _benign;
    private int _highAnomaly;
    private long _window;

    /// <summary>A window over <paramref name="profile"/>; <paramref name="anomalyThreshold"/> is the anomaly model's (NaN without one).</summary>
    public DriftWindow(TrainingProfile profile, DriftOptions options, double anomalyThreshold)
    {
        _profile = profile ?? throw new ArgumentNullException(nameof(profile));
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        _anomalyThreshold = anomalyThreshold;
        int n = profile.Features.Count;
        _edges = new float[n][];
        _offsets = new int[n + 1];
        for (int j = 0; j < n; j++)
        {
            // Rounded up to float so that a float value equal to an edge falls in the same bin as in training.
            _edges[j] = [.. profile.Edges[j].Select(e => (float)e)];
            _offsets[j + 1] = _offsets[j] + _edges[j].Length + 1;
        }

        _counts = new int[_offsets[n]];
        _classWeight = new double[profile.Classes.Count];
    }

    /// <summary>Flows in the current window.</summary>
    public int Flows => _flows;

    /// <summary>True once the window holds <see cref="DriftOptions.WindowFlows"/> flows.</summary>
    public bool Full => _flows >= _options.WindowFlows;

    /// <summary>
    /// Adds one scored flow: its canonical row, the classifier's probabilities (in the profile's class order), the index
    /// of the benign class (-1: none) and its anomaly score (NaN without an anomaly model).
    /// </summary>
    public void Add(ReadOnlySpan<float> row, ReadOnlySpan<float> probabilities, int benignClass, float anomalyScore)
    {
        var features = _profile.Features;
        for (int j = 0; j < _edges.Length; j++)
        {
            float v = row[features[j]];
            if (!float.IsFinite(v))
            {
                v = float.IsNaN(v) ? 0f : float.IsPositiveInfinity(v) ? float.MaxValue : -float.MaxValue;
            }

            var e = _edges[j];
            int b = 0;
            while (b < e.Length && v > e[b])
            {
                b++;
            }

            _counts[_offsets[j] + b]++;
        }

        for (int k = 0; k < _classWeight.Length && k < probabilities.Length; k++)
        {
            _classWeight[k] += probabilities[k];
        }

        if (benignClass >= 0 && probabilities[benignClass] >= 0.5f)
        {
            _benign++;
            if (anomalyScore >= _anomalyThreshold)
            {
                _highAnomaly++;
            }
        }

        _flows++;
    }

    /// <summary>
    /// Judges the window and starts a new one. Returns null (and keeps nothing) when it holds fewer than
    /// <see cref="DriftOptions.MinFlows"/> flows.
    /// </summary>
    public DriftReport? Close()
    {
        if (_flows < _options.MinFlows)
        {
            Reset();
            return null;
        }

        _window++;
        double totalWeight = _classWeight.Sum();
        var features = new List<FeatureDrift>(_edges.Length);
        for (int j = 0; j < _edges.Length; j++)
        {
            int bins = _edges[j].Length + 1;
            double psi = 0, divergence = 0;
            for (int b = 0; b < bins; b++)
            {
                double expected = 0;
                for (int k = 0; k < _classWeight.Length; k++)
                {
                    if (_classWeight[k] > 0)
                    {
                        expected += _classWeight[k] / totalWeight * _profile.Shares[k][j][b];
                    }
                }

                double observed = (double)_counts[_offsets[j] + b] / _flows;
                double o = Math.Max(observed, Floor);
                double e = Math.Max(expected, Floor);
                psi += (o - e) * Math.Log(o / e);
                if (observed > 0)
                {
                    divergence += observed * Math.Log(observed / e);
                }
            }

            double critical = Math.Max(_options.DivergenceThreshold, ChiSquare999(bins - 1) / (2.0 * _flows));
            features.Add(new FeatureDrift(FeatureSchema.Features[_profile.Features[j]].Name, psi, Math.Max(divergence, 0), critical));
        }

        features.Sort((a, b) => b.Divergence.CompareTo(a.Divergence));
        double? share = double.IsNaN(_anomalyThreshold) || _benign < _options.MinBenignFlows ? null : (double)_highAnomaly / _benign;
        var report = new DriftReport
        {
            Window = _window,
            Flows = _flows,
            Features = features,
            BenignFlows = _benign,
            AnomalyShare = share,
            ExpectedAnomalyShare = _profile.AnomalyShare,
            AnomalyDrift = share >= Math.Max(_options.AnomalyShareThreshold, 3 * _profile.AnomalyShare),
        };
        Reset();
        return report;
    }

    /// <summary>The 0.999 quantile of χ² with <paramref name="dof"/> degrees of freedom (Wilson–Hilferty; within 1 % from 3 up).</summary>
    public static double ChiSquare999(int dof)
    {
        if (dof <= 0)
        {
            return 0;
        }

        if (dof == 1)
        {
            return 10.828;
        }

        if (dof == 2)
        {
            return 13.816;
        }

        const double z = 3.0902;
        double a = 2.0 / (9 * dof);
        double q = 1 - a + (z * Math.Sqrt(a));
        return dof * q * q * q;
    }

    private void Reset()
    {
        Array.Clear(_counts);
        Array.Clear(_classWeight);
        _flows = 0;
        _benign = 0;
        _highAnomaly = 0;
    }
}
