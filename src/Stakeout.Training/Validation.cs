using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Stakeout.Core;
using Stakeout.Evaluation;
using Stakeout.Ingest;

namespace Stakeout.Training;

/// <summary>What scoring the validation data produced: the report text and the malicious source IPs text.</summary>
/// <param name="Report">validation_report.log text.</param>
/// <param name="MaliciousIps">malicious_ips.log text: one real source IP a line with its count, or why there is none.</param>
/// <param name="Rows">Rows scored.</param>
/// <param name="Flagged">Rows whose attack score reached the threshold.</param>
public sealed record ValidationResult(string Report, string MaliciousIps, long Rows, long Flagged);

/// <summary>Scores a validation set with a freshly trained model, as the prototype's validation step did.</summary>
public static class Validation
{
    /// <summary>
    /// Scores every row of <paramref name="paths"/> with the trained artifact's runtime scorer (no de-duplication:
    /// validation counts what it is given), measures the labelled rows with Stakeout.Evaluation at the finest level the
    /// model and the labels share (as <c>stakeout evaluate</c> does: family-labelled data checks a class-level model at
    /// family level), and lists the real source IPs of the rows flagged at <paramref name="threshold"/>.
    /// </summary>
    public static ValidationResult Run(TrainResult trained, IReadOnlyList<string> paths, double threshold, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trained);
        ArgumentNullException.ThrowIfNull(paths);
        var c = CultureInfo.InvariantCulture;
        var scorer = trained.Artifact.CreateScorer();
        int k = scorer.Classes.Count;
        int benign = scorer.BenignClassIndex;
        var accumulator = new EvaluationAccumulator(scorer.Classes, trained.Table.Level, benign, threshold);
        var read = new FlowCsvReader(new FlowReaderOptions()).Open(paths);
        var ips = new Dictionary<IpAddressValue, long>();
        bool anyIdentity = false;
        long rows = 0, flagged = 0, unlabelled = 0;
        float[] probabilities = [];
        var labelled = new List<int>();
        var labelledProbabilities = new List<float>();
        foreach (var batch in read.ReadBatches(null, cancellationToken))
        {
            int n = batch.Count;
            if (probabilities.Length < n * k)
            {
                probabilities = new float[n * k];
            }

            scorer.Score(batch.Features.AsSpan(0, n * FeatureSchema.Count), probabilities.AsSpan(0, n * k));
            anyIdentity |= batch.Identities is not null;
            labelled.Clear();
            labelledProbabilities.Clear();
            for (int r = 0; r < n; r++)
            {
                var p = probabilities.AsSpan(r * k, k);
                rows++;
                if (benign < 0 || 1 - p[benign] >= threshold)
                {
                    flagged++;
                    if (batch.Identities is { } ids && ids[r].SourceIp.HasValue)
                    {
                        ips[ids[r].SourceIp] = ips.GetValueOrDefault(ids[r].SourceIp) + 1;
                    }
                }

                if (batch.LabelIds[r] < 0)
                {
                    unlabelled++;
                    continue;
                }

                labelled.Add(batch.LabelIds[r]);
                foreach (float v in p)
                {
                    labelledProbabilities.Add(v);
                }
            }

            accumulator.AddBatch(CollectionsMarshal.AsSpan(labelled), read.Labels.Snapshot(), CollectionsMarshal.AsSpan(labelledProbabilities));
        }

        var sb = new StringBuilder();
        sb.Append(c, $"Validation report: {string.Join(", ", paths)}\n");
        sb.Append(c, $"rows scored: {rows:N0}; flagged as attacks at threshold {threshold}: {flagged:N0}\n");
        if (unlabelled > 0)
        {
            sb.Append(c, $"rows without a label: {unlabelled:N0} (scored, not in the metrics)\n");
        }

        if (accumulator.Rows > 0)
        {
            sb.Append('\n').Append(ClassificationReportText.Format(accumulator.Compute()));
        }

        var ipText = new StringBuilder();
        if (!anyIdentity)
        {
            ipText.Append("The validation data has no IP columns (e.g. the MachineLearningCVE layout), so no source addresses can be listed.\n");
            ipText.Append(c, $"{flagged:N0} of {rows:N0} flows were predicted malicious at threshold {threshold}.\n");
        }
        else if (ips.Count == 0)
        {
            ipText.Append(c, $"No flow with a source IP was predicted malicious at threshold {threshold} ({rows:N0} flows scored).\n");
        }
        else
        {
            foreach (var (ip, count) in ips.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key.ToString(), StringComparer.Ordinal))
            {
                ipText.Append(c, $"{ip} {count}\n");
            }
        }

        return new ValidationResult(sb.ToString(), ipText.ToString(), rows, flagged);
    }
}
