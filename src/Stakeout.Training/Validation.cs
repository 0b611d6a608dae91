using System.Globalization;
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
    /// Scores every row of <paramref name="paths"/> (no de-duplication: validation counts what it is given), reports
    /// metrics when the rows are labelled at the model's level or finer (else at binary level), and lists the real source
    /// IPs of the rows flagged at <paramref name="threshold"/>.
    /// </summary>
    public static ValidationResult Run(TrainResult trained, IReadOnlyList<string> paths, double threshold, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trained);
        var c = CultureInfo.InvariantCulture;
        var model = trained.Model;
        var classes = trained.Table.Classes;
        int benign = classes.ToList().IndexOf(LabelTaxonomy.Benign);
        var level = trained.Table.Level;
        var read = new FlowCsvReader(new FlowReaderOptions()).Open(paths);
        var ips = new Dictionary<IpAddressValue, long>();
        bool anyIdentity = false;
        long rows = 0, flagged = 0, unlabelled = 0, unmappable = 0;
        var truth = new List<int>();
        var probabilitiesAll = new List<float>();
        var p = new double[model.Classes];
        var classIndex = classes.Select((n, i) => (n, i)).ToDictionary(t => t.n, t => t.i, StringComparer.Ordinal);
        foreach (var batch in read.ReadBatches(null, cancellationToken))
        {
            NonFiniteMapping.Apply(batch.Features.AsSpan(0, batch.Count * FeatureSchema.Count));
            anyIdentity |= batch.Identities is not null;
            for (int r = 0; r < batch.Count; r++)
            {
                model.Predict(batch.Row(r), p);
                rows++;
                bool attack = benign < 0 || 1 - p[benign] >= threshold;
                if (attack)
                {
                    flagged++;
                    if (batch.Identities is { } ids && ids[r].SourceIp.HasValue)
                    {
                        ips[ids[r].SourceIp] = ips.GetValueOrDefault(ids[r].SourceIp) + 1;
                    }
                }

                int labelId = batch.LabelIds[r];
                if (labelId < 0)
                {
                    unlabelled++;
                    continue;
                }

                var def = read.Labels[labelId];
                string name = def.Level <= level ? def.At(level) : def.Binary;
                if (def.Level > level || !classIndex.TryGetValue(name, out int t))
                {
                    unmappable++;
                    continue;
                }

                truth.Add(t);
                foreach (double v in p)
                {
                    probabilitiesAll.Add((float)v);
                }
            }
        }

        var sb = new StringBuilder();
        sb.Append(c, $"Validation report: {string.Join(", ", paths)}\n");
        sb.Append(c, $"rows scored: {rows:N0}; flagged as attacks at threshold {threshold}: {flagged:N0}\n");
        if (unlabelled > 0)
        {
            sb.Append(c, $"rows without a label: {unlabelled:N0} (scored, not in the metrics)\n");
        }

        if (unmappable > 0)
        {
            sb.Append(c, $"rows whose label the model cannot name at {TrainingTable.Name(level)} level: {unmappable:N0} (scored, not in the metrics)\n");
        }

        if (truth.Count > 0)
        {
            var accumulator = new EvaluationAccumulator(classes, level, benign, threshold);
            accumulator.AddBatch(truth.ToArray(), [.. classes.Select(LabelTaxonomy.Resolve)], probabilitiesAll.ToArray());
            sb.Append('\n').Append(ClassificationReportText.Format(accumulator.Compute(level)));
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
