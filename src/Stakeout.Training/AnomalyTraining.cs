using System.Globalization;
using Stakeout.Core;
using Stakeout.Models.Anomaly;
using Stakeout.Models.Drift;

namespace Stakeout.Training;

/// <summary>How the anomaly model beside the classifier is fitted (docs/beyond-training.md).</summary>
public sealed record AnomalySettings
{
    /// <summary>Fit an anomaly model and a training profile (format 2); off writes neither.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Equal-width bins per feature on the signed-log scale.</summary>
    public int Bins { get; init; } = 32;

    /// <summary>Share of held-out benign training flows allowed at or above the anomaly threshold. Default 0.1 %: on benign days never trained on, 0.5 % added 4.5 points of false alarms (b2) for no attack recall on the shared attack files (bench/compare/anomaly-sweep.sh).</summary>
    public double TargetFpr { get; init; } = 0.001;

    /// <summary>Pseudo-count added to every bin (so a bin no benign flow fell in still has a finite score).</summary>
    public double Smoothing { get; init; } = 0.5;

    /// <summary>Folds for the out-of-fold scores that set the threshold.</summary>
    public int Folds { get; init; } = 5;

    /// <summary>Fewer benign training rows than this: no anomaly model (its threshold would be guesswork).</summary>
    public int MinBenignRows { get; init; } = 50;

    /// <summary>Throws naming the option at fault.</summary>
    public AnomalySettings Validate()
    {
        if (Bins is < 2 or > 4096)
        {
            throw new ArgumentException($"--anomaly-bins must be in 2..4096; it was {Bins}.", nameof(Bins));
        }

        if (!(TargetFpr is > 0 and < 1))
        {
            throw new ArgumentException($"--anomaly-fpr must be in (0, 1); it was {TargetFpr}.", nameof(TargetFpr));
        }

        if (!(Smoothing > 0))
        {
            throw new ArgumentException($"the anomaly smoothing must be positive; it was {Smoothing}.", nameof(Smoothing));
        }

        if (Folds < 2)
        {
            throw new ArgumentException($"the anomaly folds must be at least 2; it was {Folds}.", nameof(Folds));
        }

        return this;
    }
}

/// <summary>
/// Fits the histogram anomaly model (HBOS on signed-log features) on benign rows and sets its threshold from
/// out-of-fold scores, and builds the training-data profile that detection compares live windows with.
/// </summary>
public static class AnomalyTraining
{
    /// <summary>
    /// Fits on <paramref name="benignRows"/> (canonical rows, <see cref="FeatureSchema.Count"/> floats each) over
    /// <paramref name="features"/>; the threshold is the score that at most <see cref="AnomalySettings.TargetFpr"/> of the
    /// rows reach when each fold is scored by a model fitted on the others (so it is set on flows the histograms did not
    /// count, as live traffic will be). Also returns those out-of-fold scores.
    /// </summary>
    public static (HistogramAnomalyModel Model, float[] OutOfFold) Fit(float[] benignRows, IReadOnlyList<int> features, AnomalySettings settings, int seed)
    {
        ArgumentNullException.ThrowIfNull(benignRows);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        int n = benignRows.Length / FeatureSchema.Count;
        if (n < settings.MinBenignRows)
        {
            throw new TrainingDataException($"the anomaly model needs at least {settings.MinBenignRows} benign training rows; there are {n}.");
        }

        var order = Enumerable.Range(0, n).ToArray();
        new Random(seed).Shuffle(order);
        var oof = new float[n];
        var scratch = new float[n * FeatureSchema.Count];
        for (int fold = 0; fold < settings.Folds; fold++)
        {
            int m = 0;
            for (int i = 0; i < n; i++)
            {
                if (i % settings.Folds != fold)
                {
                    benignRows.AsSpan(order[i] * FeatureSchema.Count, FeatureSchema.Count).CopyTo(scratch.AsSpan(m++ * FeatureSchema.Count));
                }
            }

            var part = AnomalyScorer.Compile(Histograms(scratch.AsSpan(0, m * FeatureSchema.Count), features, settings, 0, ""), "(fold)");
            for (int i = fold; i < n; i += settings.Folds)
            {
                oof[order[i]] = part.ScoreRow(benignRows.AsSpan(order[i] * FeatureSchema.Count, FeatureSchema.Count));
            }
        }

        double threshold = ThresholdFor(oof, settings.TargetFpr);
        long above = oof.Count(s => s >= threshold);
        string source = string.Create(CultureInfo.InvariantCulture, $"out-of-fold ({settings.Folds} folds) on {n} benign training flows: at most {settings.TargetFpr} reach it ({above} do)");
        return (Histograms(benignRows, features, settings, threshold, source), oof);
    }

    /// <summary>The lowest threshold that at most ⌊fpr·n⌋ of <paramref name="scores"/> reach (as `calibrate` sets the classifier's).</summary>
    public static double ThresholdFor(IReadOnlyList<float> scores, double fpr)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.Count == 0)
        {
            throw new ArgumentException("no scores to set a threshold on.", nameof(scores));
        }

        var sorted = scores.Select(s => (double)s).OrderByDescending(s => s).ToArray();
        int allowed = (int)Math.Floor(fpr * sorted.Length);
        return allowed >= sorted.Length ? sorted[^1] : Math.BitIncrement(sorted[allowed]);
    }

    /// <summary>The histograms of <paramref name="rows"/>, with the given threshold.</summary>
    internal static HistogramAnomalyModel Histograms(ReadOnlySpan<float> rows, IReadOnlyList<int> features, AnomalySettings settings, double threshold, string thresholdSource)
    {
        int n = rows.Length / FeatureSchema.Count;
        int bins = settings.Bins;
        var lower = new double[features.Count];
        var width = new double[features.Count];
        var outside = new double[features.Count];
        var scores = new double[features.Count][];
        var t = new float[n];
        var counts = new long[bins];
        for (int j = 0; j < features.Count; j++)
        {
            int f = features[j];
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            for (int i = 0; i < n; i++)
            {
                t[i] = AnomalyScorer.Transform(rows[(i * FeatureSchema.Count) + f]);
                min = Math.Min(min, t[i]);
                max = Math.Max(max, t[i]);
            }

            // A constant feature gets a window of ±0.5 (a factor of about 1.6 either side) around its value; otherwise the
            // bins span the benign range, a hair wider so the maximum falls inside the last bin.
            double w = max - min > 1e-6 ? (max - min) * (1 + 1e-5) / bins : 1.0 / bins;
            double lo = max - min > 1e-6 ? min : min - 0.5;
            lower[j] = lo;
            width[j] = w;
            Array.Clear(counts);
            float lof = (float)lo, inv = (float)(1 / w);
            for (int i = 0; i < n; i++)
            {
                float d = AnomalyScorer.BinPosition(t[i], lof, inv);
                counts[Math.Clamp((int)d, 0, bins - 1)]++;
            }

            double denominator = n + (settings.Smoothing * bins);
            double best = Math.Log((counts.Max() + settings.Smoothing) / denominator);
            scores[j] = [.. counts.Select(c => best - Math.Log((c + settings.Smoothing) / denominator))];
            outside[j] = best - Math.Log(settings.Smoothing / denominator);
        }

        return new HistogramAnomalyModel
        {
            Bins = bins,
            Features = [.. features],
            Lower = lower,
            Width = width,
            Scores = scores,
            Outside = outside,
            Threshold = threshold,
            ThresholdSource = thresholdSource,
            BenignRows = n,
        };
    }

    /// <summary>
    /// The training profile of <paramref name="rows"/> (with <paramref name="labels"/> indexing <paramref name="classes"/>):
    /// decile edges of all rows per feature, and each class's share per bin. Each row counts <paramref name="copies"/>
    /// times (the exact duplicates it stands for; null: once), as live traffic repeats flows.
    /// </summary>
    public static TrainingProfile Profile(float[] rows, int[] labels, IReadOnlyList<string> classes, IReadOnlyList<int> features, double anomalyShare, int[]? copies = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(features);
        int n = labels.Length;
        if (copies is not null && copies.Length != n)
        {
            throw new ArgumentException($"{copies.Length} copy counts for {n} rows.", nameof(copies));
        }

        var edges = new List<IReadOnlyList<double>>(features.Count);
        var values = new double[n];
        var classRows = new long[classes.Count];
        for (int i = 0; i < n; i++)
        {
            classRows[labels[i]] += copies?[i] ?? 1;
        }

        long total = classRows.Sum();

        var shares = Enumerable.Range(0, classes.Count).Select(_ => new List<IReadOnlyList<double>>()).ToArray();
        for (int j = 0; j < features.Count; j++)
        {
            for (int i = 0; i < n; i++)
            {
                float v = rows[(i * FeatureSchema.Count) + features[j]];
                values[i] = float.IsFinite(v) ? v : float.IsNaN(v) ? 0 : float.IsPositiveInfinity(v) ? float.MaxValue : -float.MaxValue;
            }

            var order = Enumerable.Range(0, n).ToArray();
            Array.Sort(values.ToArray(), order);
            var e = new List<double>();
            long cumulative = 0;
            int q = 1;
            foreach (int i in order)
            {
                // Weighted deciles; edges are data values (floats), so a live float equal to one bins exactly as here.
                cumulative += copies?[i] ?? 1;
                while (q <= 9 && cumulative > q * total / 10.0)
                {
                    if (e.Count == 0 || values[i] > e[^1])
                    {
                        e.Add(values[i]);
                    }

                    q++;
                }
            }

            double maxValue = values[order[^1]];
            if (e[^1] >= maxValue && e.Count > 1)
            {
                // The top edge at the maximum would leave the last bin empty in training; drop it.
                e.RemoveAt(e.Count - 1);
            }

            edges.Add(e);
            var counts = new long[classes.Count, e.Count + 1];
            for (int i = 0; i < n; i++)
            {
                counts[labels[i], TrainingProfile.BinOf(e, (float)values[i])] += copies?[i] ?? 1;
            }

            for (int k = 0; k < classes.Count; k++)
            {
                var s = new double[e.Count + 1];
                for (int b = 0; b < s.Length; b++)
                {
                    s[b] = classRows[k] == 0 ? 0 : (double)counts[k, b] / classRows[k];
                }

                shares[k].Add(s);
            }
        }

        return new TrainingProfile
        {
            Features = [.. features],
            Edges = edges,
            Classes = [.. classes],
            ClassRows = classRows,
            Shares = [.. shares],
            AnomalyShare = anomalyShare,
        };
    }
}

/// <summary>The anomaly model and profile of one training run, and what they do on its test split.</summary>
internal sealed record BeyondFit(HistogramAnomalyModel? Anomaly, TrainingProfile? Profile, IReadOnlyDictionary<string, double> Metrics);

/// <summary>Fits the anomaly model and the profile for a training run and measures them on its test split.</summary>
internal static class BeyondTrainer
{
    /// <summary>At most this many rows go into the histograms and the profile (an even sample of larger splits).</summary>
    internal const int MaxRows = 200_000;

    public static BeyondFit Fit(TrainingTable table, DataSplit split, Models.ModelArtifact classifier, AnomalySettings settings, int seed, ITrainingLog log)
    {
        var c = CultureInfo.InvariantCulture;
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        int benign = table.Classes.ToList().IndexOf(LabelTaxonomy.Benign);
        var features = classifier.Manifest.Features.Select(f => f.Index).ToArray();
        var train = TrainingRun.EvenSample(split.Train, MaxRows);
        var benignRows = train.Where(r => table.Label(r) == benign).ToList();
        HistogramAnomalyModel? anomaly = null;
        double anomalyShare = 0;
        if (benign < 0 || benignRows.Count < settings.MinBenignRows)
        {
            log.Info($"anomaly model: not fitted ({(benign < 0 ? "no BENIGN class" : $"{benignRows.Count} benign training rows, fewer than {settings.MinBenignRows}")})");
        }
        else
        {
            float[] oof;
            (anomaly, oof) = AnomalyTraining.Fit(Gather(table, benignRows), features, settings, seed);
            anomalyShare = (double)oof.Count(s => s >= anomaly.Threshold) / oof.Length;
            log.Info(string.Create(c, $"anomaly model: HBOS on {features.Length} features, {settings.Bins} bins, fitted on {benignRows.Count:N0} benign training rows; threshold {anomaly.Threshold:F3} ({anomalyShare:P2} of benign rows reach it out of fold, target {settings.TargetFpr:P2})"));
        }

        var profile = AnomalyTraining.Profile(Gather(table, train), [.. train.Select(table.Label)], table.Classes, features, anomalyShare, [.. train.Select(table.Copies)]);
        log.Info(string.Create(c, $"training profile: {features.Length} features, {profile.Edges.Sum(e => e.Count + 1)} bins, {table.Classes.Count} classes, from {train.Count:N0} training rows"));
        if (anomaly is not null && split.Test.Count > 0 && benign >= 0)
        {
            Measure(table, split.Test, classifier, anomaly, benign, metrics, log);
        }

        return new BeyondFit(anomaly, profile, metrics);
    }

    private static void Measure(TrainingTable table, IReadOnlyList<int> test, Models.ModelArtifact classifier, HistogramAnomalyModel anomaly, int benign, Dictionary<string, double> metrics, ITrainingLog log)
    {
        var scorer = classifier.CreateScorer();
        var anomalyScorer = AnomalyScorer.Compile(anomaly, "(training)");
        int k = scorer.Classes.Count;
        var p = new float[k];
        long benignRows = 0, benignClassifier = 0, benignAnomaly = 0, benignEither = 0, attackRows = 0, attackClassifier = 0, attackEither = 0;
        double threshold = classifier.Manifest.Threshold;
        foreach (int r in test)
        {
            var row = table.Row(r);
            scorer.Score(row, p);
            bool byClassifier = 1 - p[scorer.BenignClassIndex] >= threshold;
            bool byAnomaly = anomalyScorer.ScoreRow(row) >= anomaly.Threshold;
            if (table.Label(r) == benign)
            {
                benignRows++;
                benignClassifier += byClassifier ? 1 : 0;
                benignAnomaly += byAnomaly ? 1 : 0;
                benignEither += byClassifier || byAnomaly ? 1 : 0;
            }
            else
            {
                attackRows++;
                attackClassifier += byClassifier ? 1 : 0;
                attackEither += byClassifier || byAnomaly ? 1 : 0;
            }
        }

        double Ratio(long a, long b) => b == 0 ? double.NaN : (double)a / b;
        metrics["anomaly_benign_fpr"] = Ratio(benignAnomaly, benignRows);
        metrics["combined_benign_fpr"] = Ratio(benignEither, benignRows);
        metrics["combined_attack_recall"] = Ratio(attackEither, attackRows);
        var c = CultureInfo.InvariantCulture;
        log.Info(string.Create(c, $"test split with the anomaly model: benign flagged {benignEither} of {benignRows} (classifier {benignClassifier}, anomaly {benignAnomaly}); attacks flagged {attackEither} of {attackRows} (classifier alone {attackClassifier})"));
    }

    private static float[] Gather(TrainingTable table, IReadOnlyList<int> rows)
    {
        var flat = new float[rows.Count * FeatureSchema.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            table.Row(rows[i]).CopyTo(flat.AsSpan(i * FeatureSchema.Count));
        }

        return flat;
    }
}
