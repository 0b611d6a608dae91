using System.Globalization;
using System.Text;
using System.Text.Json;
using Stakeout.Core;
using Stakeout.Ingest;
using Stakeout.Models;

namespace Stakeout.Training;

/// <summary>What calibration decided.</summary>
/// <param name="Artifact">The model with its new threshold (unsaved).</param>
/// <param name="Threshold">The new alert threshold.</param>
/// <param name="PreviousThreshold">The threshold it replaced.</param>
/// <param name="BenignRows">Benign flows scored.</param>
/// <param name="FalsePositiveRate">Share of those flows that still alert at the new threshold.</param>
/// <param name="AnomalyThreshold">The new anomaly threshold, or null when the model has no anomaly model.</param>
/// <param name="AnomalyFalsePositiveRate">Share of the benign flows at or above it.</param>
/// <param name="CombinedFalsePositiveRate">Share of the benign flows that raise an alert of either kind.</param>
public sealed record CalibrationResult(ModelArtifact Artifact, double Threshold, double PreviousThreshold, long BenignRows, double FalsePositiveRate, double? AnomalyThreshold = null, double AnomalyFalsePositiveRate = 0, double CombinedFalsePositiveRate = 0);

/// <summary>Sets a model's alert threshold from a site's own benign traffic.</summary>
public static class Calibration
{
    /// <summary>
    /// Scores the benign flows in <paramref name="benignPaths"/> (rows labelled otherwise are left out; unlabelled rows
    /// count as benign) and sets the threshold just above the attack score of the ⌊maxFpr × n⌋+1-th highest flow, so at
    /// most a <paramref name="maxFpr"/> share of this traffic would alert. Records how in <c>threshold_source</c> and in
    /// the lineage.
    /// </summary>
    /// <remarks>
    /// When the model has an anomaly model, its threshold is learnt from the same flows: at most
    /// <paramref name="anomalyMaxFpr"/> of them (default <paramref name="maxFpr"/>) reach it.
    /// </remarks>
    public static CalibrationResult Run(ModelArtifact model, IReadOnlyList<string> benignPaths, double maxFpr, TimeProvider time, double? anomalyMaxFpr = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(time);
        if (!(maxFpr is >= 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(maxFpr), maxFpr, "--max-fpr must be in [0, 1).");
        }

        var m = model.Manifest;
        // The runtime's own scorer: the threshold is set on exactly the scores detection will compute.
        var scorer = model.CreateScorer();
        int benign = scorer.BenignClassIndex;
        if (benign < 0)
        {
            throw new TrainingDataException($"the model has no benign class '{m.BenignClass}' to calibrate against.");
        }

        if (anomalyMaxFpr is { } amf && !(amf is >= 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(anomalyMaxFpr), amf, "--anomaly-max-fpr must be in [0, 1).");
        }

        var anomalyScorer = model.AnomalyScorer;
        var anomalyScores = new List<float>();
        var read = new FlowCsvReader(new FlowReaderOptions()).Open(benignPaths);
        var scores = new List<double>();
        long skipped = 0;
        int k = scorer.Classes.Count;
        foreach (var batch in read.ReadBatches(null, cancellationToken))
        {
            var p = new float[batch.Count * k];
            scorer.Score(batch.Features.AsSpan(0, batch.Count * FeatureSchema.Count), p);
            for (int r = 0; r < batch.Count; r++)
            {
                int label = batch.LabelIds[r];
                if (label >= 0 && read.Labels[label].IsAttack)
                {
                    skipped++;
                    continue;
                }

                scores.Add(1 - (double)p[(r * k) + benign]);
                if (anomalyScorer is not null)
                {
                    anomalyScores.Add(anomalyScorer.ScoreRow(batch.Features.AsSpan(r * FeatureSchema.Count, FeatureSchema.Count)));
                }
            }
        }

        if (scores.Count == 0)
        {
            throw new TrainingDataException($"no benign flows in {string.Join(", ", benignPaths)}{(skipped > 0 ? $" ({skipped} attack-labelled rows were left out)" : "")}.");
        }

        scores.Sort((a, b) => b.CompareTo(a));
        int allowed = (int)Math.Floor(maxFpr * scores.Count);
        double threshold = allowed >= scores.Count ? scores[^1] : Math.Min(1, Math.BitIncrement(scores[allowed]));
        long alerting = scores.Count(s => s >= threshold);
        var c = CultureInfo.InvariantCulture;
        string source = string.Create(c, $"calibrated: max FPR {maxFpr} on {scores.Count} benign flows from {string.Join(", ", benignPaths)} ({alerting} still alert); was {m.Threshold}");
        var lineage = m.Lineage.Append(new ManifestLineage(model.Sha256 ?? "", m.CreatedUtc, source)).ToList();
        var manifest = m with { Threshold = threshold, ThresholdSource = source, CreatedUtc = time.GetUtcNow(), Lineage = lineage };
        var anomaly = model.AnomalyModel;
        double? anomalyThreshold = null;
        double anomalyFpr = 0, combinedFpr = (double)alerting / scores.Count;
        if (anomaly is not null)
        {
            double fpr = anomalyMaxFpr ?? maxFpr;
            double t = AnomalyTraining.ThresholdFor(anomalyScores, fpr);
            long high = anomalyScores.Count(s => s >= t);
            long either = scores.Zip(anomalyScores).Count(x => x.First >= threshold || x.Second >= t);
            anomalyThreshold = t;
            anomalyFpr = (double)high / anomalyScores.Count;
            combinedFpr = (double)either / scores.Count;
            anomaly = anomaly with { Threshold = t, ThresholdSource = string.Create(c, $"calibrated: max FPR {fpr} on {anomalyScores.Count} benign flows from {string.Join(", ", benignPaths)} ({high} still reach it); was {anomaly.Threshold}") };
        }

        // The profile stays the training data's: calibration moves thresholds, not what the model was trained on.
        var profile = model.Profile is { } pr && anomaly is not null ? pr with { AnomalyShare = anomalyFpr } : model.Profile;
        return new CalibrationResult(ModelArtifact.Create(manifest, model.Payload.ToArray(), anomaly, profile), threshold, m.Threshold, scores.Count, (double)alerting / scores.Count, anomalyThreshold, anomalyFpr, combinedFpr);
    }

    /// <summary>A stored model as the training code's reference scorer.</summary>
    internal static ExportedModel Load(ModelArtifact model)
    {
        var m = model.Manifest;
        var features = m.Features.Select(f => f.Index).ToArray();
        return m.ModelKind switch
        {
            "lightgbm" => new ExportedModel(GbdtModel.Parse(Encoding.UTF8.GetString(model.Payload.Span), features), null, m.Classes.Count),
            "logistic-regression" => new ExportedModel(null, JsonSerializer.Deserialize<LogisticPayload>(model.Payload.Span) ?? throw new InvalidDataException("empty logistic-regression payload"), 2),
            _ => throw new TrainingDataException($"model kind '{m.ModelKind}' cannot be calibrated by this Stakeout."),
        };
    }
}
