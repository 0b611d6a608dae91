using Stakeout.Core;
using Stakeout.Models;
using Stakeout.Models.Anomaly;
using Stakeout.Models.Drift;

namespace Stakeout.Detection;

/// <summary>
/// A scorer ready for the pipeline: its classes' families, severities and thresholds resolved once, and the canonical
/// features every stream must provide. Immutable; swapped whole by <see cref="ModelHolder"/>.
/// </summary>
public sealed class ModelHandle
{
    private ModelHandle(IFlowScorer scorer, string source, string? sha256, double[] thresholds, string[] families, int[] severities, int[] required, AnomalyScorer? anomaly, double anomalyThreshold, bool anomalyAlerts, TrainingProfile? profile)
    {
        Anomaly = anomaly;
        AnomalyThreshold = anomalyThreshold;
        AnomalyAlerts = anomaly is not null && anomalyAlerts;
        Profile = profile;
        Scorer = scorer;
        Source = source;
        Sha256 = sha256;
        Thresholds = thresholds;
        Families = families;
        Severities = severities;
        RequiredFeatures = required;
    }

    /// <summary>The scorer.</summary>
    public IFlowScorer Scorer { get; }

    /// <summary>Where the model came from (artifact path).</summary>
    public string Source { get; }

    /// <summary>SHA-256 of the artifact, when it has one.</summary>
    public string? Sha256 { get; }

    /// <summary>Canonical indices of the features the model reads.</summary>
    public IReadOnlyList<int> RequiredFeatures { get; }

    internal double[] Thresholds { get; }

    /// <summary>The anomaly scorer, when the artifact has an anomaly model.</summary>
    public AnomalyScorer? Anomaly { get; }

    /// <summary>Anomaly alerts at or above this score (the option's override, else the artifact's); NaN without an anomaly model.</summary>
    public double AnomalyThreshold { get; }

    /// <summary>True when flows the classifier calls benign may raise `anomaly` alerts.</summary>
    public bool AnomalyAlerts { get; }

    /// <summary>The training profile for drift checks, when the artifact has one.</summary>
    public TrainingProfile? Profile { get; }

    internal string[] Families { get; }

    internal int[] Severities { get; }

    /// <summary>
    /// Prepares <paramref name="scorer"/> under <paramref name="options"/>: per-class thresholds (the option's override,
    /// else the global override, else the manifest's threshold) and severities. Throws <see cref="ArgumentException"/> when a
    /// per-class threshold names a class the model does not have.
    /// </summary>
    /// <remarks>
    /// <paramref name="anomaly"/> and <paramref name="profile"/> come from a format-2 artifact; without them the handle
    /// alerts on the classifier alone and checks no drift.
    /// </remarks>
    public static ModelHandle Create(IFlowScorer scorer, DetectionOptions options, string source, string? sha256 = null, AnomalyScorer? anomaly = null, TrainingProfile? profile = null)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(options);
        Guard.NotBlank(source);
        var classes = scorer.Classes;
        foreach (var name in options.ClassThresholds.Keys)
        {
            if (!classes.Contains(name, StringComparer.Ordinal))
            {
                throw new ArgumentException($"a threshold is set for class '{name}', which model '{source}' does not have (its classes: {string.Join(", ", classes)}).", nameof(options));
            }
        }

        double global = options.Threshold ?? scorer.Manifest.Threshold;
        var thresholds = new double[classes.Count];
        var families = new string[classes.Count];
        var severities = new int[classes.Count];
        for (int k = 0; k < classes.Count; k++)
        {
            thresholds[k] = options.ClassThresholds.TryGetValue(classes[k], out double t) ? t : global;
            families[k] = FamilyOf(classes[k]);
            severities[k] = SeverityOf(families[k]);
        }

        if (profile is not null && !profile.Classes.SequenceEqual(classes, StringComparer.Ordinal))
        {
            throw new ArgumentException($"the training profile of model '{source}' lists classes [{string.Join(", ", profile.Classes)}], not the model's.", nameof(profile));
        }

        var required = scorer.Manifest.Features.Select(f => f.Index).Concat(anomaly?.Features ?? []).Distinct().Order().ToArray();
        foreach (int f in required)
        {
            if ((uint)f >= FeatureSchema.Count)
            {
                throw new ArgumentException($"model '{source}' reads feature index {f}, which is not a canonical feature.", nameof(scorer));
            }
        }

        double anomalyThreshold = anomaly is null ? double.NaN : options.AnomalyThreshold ?? anomaly.Threshold;
        return new ModelHandle(scorer, source, sha256, thresholds, families, severities, required, anomaly, anomalyThreshold, options.AnomalyAlerts, profile);
    }

    /// <summary>The family of a class name at any level (a family name maps to itself; "ATTACK" stays "ATTACK").</summary>
    public static string FamilyOf(string className)
    {
        ArgumentNullException.ThrowIfNull(className);
        var definition = LabelTaxonomy.Resolve(className);
        return definition.Known ? definition.Family : className;
    }

    /// <summary>
    /// Severity by family, 1 high to 3 low: code execution and data theft (Heartbleed, Infiltration, Bot, WebAttack) are 1;
    /// availability and credential attacks (DoS, DDoS, BruteForce) and unknown attacks are 2; reconnaissance (PortScan) is 3.
    /// </summary>
    public static int SeverityOf(string family) => family switch
    {
        "Heartbleed" or "Infiltration" or "Bot" or "WebAttack" => 1,
        "PortScan" => 3,
        _ => 2,
    };

    /// <summary>
    /// Features in <see cref="RequiredFeatures"/> that a stream lacks, by canonical name; empty when the stream covers the model.
    /// </summary>
    public IReadOnlyList<string> MissingFrom(Func<int, bool> hasFeature)
    {
        ArgumentNullException.ThrowIfNull(hasFeature);
        return [.. RequiredFeatures.Where(f => !hasFeature(f)).Select(f => FeatureSchema.Get(f).Name)];
    }
}

/// <summary>The model in force; swapped atomically between batches so a reload drops no flow.</summary>
public sealed class ModelHolder
{
    private ModelHandle _current;

    /// <summary>Starts with <paramref name="initial"/>.</summary>
    public ModelHolder(ModelHandle initial) => _current = Guard.NotNull(initial);

    /// <summary>The model batches are scored with now.</summary>
    public ModelHandle Current => Volatile.Read(ref _current);

    /// <summary>Replaces the model; batches already being scored finish with the old one.</summary>
    public void Swap(ModelHandle next) => Volatile.Write(ref _current, Guard.NotNull(next));
}
