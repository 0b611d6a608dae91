using System.Net;
using Stakeout.Core;

namespace Stakeout.Detection;

/// <summary>
/// Threshold and policy: a flow alerts when its attack score, 1 - P(benign), reaches the threshold of its class (the
/// most probable non-benign class), unless its source or destination is in an allow-listed network.
/// </summary>
internal sealed class AlertPolicy(DetectionOptions options)
{
    private readonly IReadOnlyList<IPNetwork> _allowSources = options.AllowSources;
    private readonly IReadOnlyList<IPNetwork> _allowDestinations = options.AllowDestinations;
    private readonly int _explainTop = options.ExplainTop;

    /// <summary>The class index and attack score of one row's probabilities (benign index -1: the top class and its probability).</summary>
    public static (int Class, double Score) Classify(ReadOnlySpan<float> p, int benign)
    {
        int best = -1;
        float bestP = float.NegativeInfinity;
        for (int k = 0; k < p.Length; k++)
        {
            if (k != benign && p[k] > bestP)
            {
                bestP = p[k];
                best = k;
            }
        }

        double score = benign >= 0 ? 1.0 - p[benign] : bestP;
        return (best, Math.Clamp(score, 0, 1));
    }

    public bool IsAllowListed(in FlowIdentity identity)
    {
        if (_allowSources.Count == 0 && _allowDestinations.Count == 0)
        {
            return false;
        }

        return Contains(_allowSources, identity.SourceIp) || Contains(_allowDestinations, identity.DestinationIp);
    }

    public void Evaluate(ScoringBatch batch, TimeProvider time, DetectionCounters counters, AlertStatistics statistics, AlertAggregator aggregator, Action<AlertCandidate, long, DateTime, DateTime, bool> emit)
    {
        var model = batch.Model!;
        var scorer = model.Scorer;
        int k = scorer.Classes.Count;
        int benign = scorer.BenignClassIndex;
        var probabilities = batch.Probabilities;
        var anomalyScores = batch.AnomalyScores;
        var flows = batch.Flows;
        long now = time.GetTimestamp();
        for (int r = 0; r < batch.Count; r++)
        {
            var p = probabilities.Slice(r * k, k);
            var (cls, score) = Classify(p, benign);
            float anomalyScore = anomalyScores.IsEmpty ? float.NaN : anomalyScores[r];
            var reason = Decide(cls >= 0 && score >= model.Thresholds[cls], model.AnomalyAlerts && anomalyScore >= model.AnomalyThreshold);
            if (reason is not { } why)
            {
                continue;
            }

            var identity = flows.Identities![r];
            if (IsAllowListed(identity))
            {
                counters.AddSuppressed();
                continue;
            }

            int top = TopClass(p);
            var candidate = new AlertCandidate(identity, flows.FlowIds![r], flows.Row(r).ToArray(), Math.Max(cls, 0), score, default, batch.Streams[r], flows.Lines[r], batch.Received[r], model, why, anomalyScore, top, p[top], r);
            counters.AddAlertFlow(candidate.Signature);
            statistics.Add(identity);
            var eventTime = identity.Timestamp != DateTime.MinValue ? identity.Timestamp : time.GetUtcNow().UtcDateTime;
            candidate = candidate with { EventTime = eventTime };
            aggregator.Offer(candidate, now, emit);
        }
    }

    /// <summary>
    /// The combined policy: the classifier's verdict and the anomaly model's give the reason, or null (no alert).
    /// </summary>
    public static AlertReason? Decide(bool classifier, bool anomaly) => (classifier, anomaly) switch
    {
        (true, true) => AlertReason.Both,
        (true, false) => AlertReason.Classifier,
        (false, true) => AlertReason.Anomaly,
        _ => null,
    };

    /// <summary>The most probable class, benign included.</summary>
    private static int TopClass(ReadOnlySpan<float> p)
    {
        int best = 0;
        for (int k = 1; k < p.Length; k++)
        {
            if (p[k] > p[best])
            {
                best = k;
            }
        }

        return best;
    }

    public Alert ToAlert(in AlertCandidate c, long count, DateTime first, DateTime last, DateTimeOffset now, double[] contributions)
    {
        var model = c.Model;
        bool anomalyOnly = c.Reason == AlertReason.Anomaly;
        var unusual = c.Reason == AlertReason.Classifier ? [] : Unusual(c, contributions);
        return new Alert
        {
            Timestamp = now,
            FlowId = FlowIds.Compute(c.Identity, c.Row),
            Identity = c.Identity,
            SourceFlowId = c.SourceFlowId,
            Signature = c.Signature,
            Category = anomalyOnly ? AlertReasons.AnomalySignature : model.Families[c.ClassIndex],
            Severity = anomalyOnly ? 2 : model.Severities[c.ClassIndex],
            Score = c.Score,
            Reason = c.Reason,
            Class = c.TopClass >= 0 ? model.Scorer.Classes[c.TopClass] : null,
            ClassProbability = c.TopClass >= 0 ? c.TopProbability : null,
            AnomalyScore = model.Anomaly is null ? null : c.AnomalyScore,
            AnomalyThreshold = model.Anomaly is null ? null : model.AnomalyThreshold,
            Unusual = unusual,
            Explanation = anomalyOnly ? unusual : Explain(c, contributions),
            Count = count,
            FirstSeen = first,
            LastSeen = last,
            Stream = c.Stream,
            Line = c.Line,
            ModelSha256 = model.Sha256,
            ReceivedTimestamp = c.Received,
        };
    }

    /// <summary>The features with the largest parts of the anomaly score (at least one, however small <c>--explain-top</c>).</summary>
    private List<FeatureContribution> Unusual(in AlertCandidate c, double[] contributions)
    {
        Array.Clear(contributions);
        c.Model.Anomaly!.Explain(c.Row, contributions);
        return Top(c.Row, contributions, Math.Max(_explainTop, 1));
    }

    private List<FeatureContribution> Explain(in AlertCandidate c, double[] contributions)
    {
        var top = new List<FeatureContribution>(_explainTop);
        if (_explainTop == 0)
        {
            return top;
        }

        Array.Clear(contributions);
        c.Model.Scorer.Explain(c.Row, c.ClassIndex, contributions);
        return Top(c.Row, contributions, _explainTop);
    }

    private static List<FeatureContribution> Top(float[] row, double[] contributions, int count)
    {
        var top = new List<FeatureContribution>(count);
        Span<int> order = stackalloc int[FeatureSchema.Count];
        for (int f = 0; f < order.Length; f++)
        {
            order[f] = f;
        }

        // Partial selection of the largest |contribution|; 78 entries, so a simple pass per pick is enough.
        for (int pick = 0; pick < count; pick++)
        {
            int best = -1;
            double bestAbs = 0;
            for (int i = pick; i < order.Length; i++)
            {
                double a = Math.Abs(contributions[order[i]]);
                if (a > bestAbs)
                {
                    bestAbs = a;
                    best = i;
                }
            }

            if (best < 0)
            {
                break;
            }

            (order[pick], order[best]) = (order[best], order[pick]);
            int feature = order[pick];
            top.Add(new FeatureContribution(FeatureSchema.Get(feature).Name, row[feature], contributions[feature]));
        }

        return top;
    }

    private static bool Contains(IReadOnlyList<IPNetwork> networks, IpAddressValue address)
    {
        if (networks.Count == 0 || !address.HasValue)
        {
            return false;
        }

        var ip = address.ToIPAddress()!;
        foreach (var network in networks)
        {
            if (network.Contains(ip))
            {
                return true;
            }
        }

        return false;
    }
}
