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
        var flows = batch.Flows;
        long now = time.GetTimestamp();
        for (int r = 0; r < batch.Count; r++)
        {
            var (cls, score) = Classify(probabilities.Slice(r * k, k), benign);
            if (cls < 0 || score < model.Thresholds[cls])
            {
                continue;
            }

            var identity = flows.Identities![r];
            if (IsAllowListed(identity))
            {
                counters.AddSuppressed();
                continue;
            }

            counters.AddAlertFlow(scorer.Classes[cls]);
            statistics.Add(identity);
            var eventTime = identity.Timestamp != DateTime.MinValue ? identity.Timestamp : time.GetUtcNow().UtcDateTime;
            var candidate = new AlertCandidate(identity, flows.FlowIds![r], flows.Row(r).ToArray(), cls, score, eventTime, batch.Streams[r], flows.Lines[r], batch.Received[r], model, r);
            aggregator.Offer(candidate, now, emit);
        }
    }

    public Alert ToAlert(in AlertCandidate c, long count, DateTime first, DateTime last, DateTimeOffset now, double[] contributions)
    {
        var model = c.Model;
        return new Alert
        {
            Timestamp = now,
            FlowId = FlowIds.Compute(c.Identity, c.Row),
            Identity = c.Identity,
            SourceFlowId = c.SourceFlowId,
            Signature = model.Scorer.Classes[c.ClassIndex],
            Category = model.Families[c.ClassIndex],
            Severity = model.Severities[c.ClassIndex],
            Score = c.Score,
            Explanation = Explain(c, contributions),
            Count = count,
            FirstSeen = first,
            LastSeen = last,
            Stream = c.Stream,
            Line = c.Line,
            ModelSha256 = model.Sha256,
            ReceivedTimestamp = c.Received,
        };
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
        Span<int> order = stackalloc int[FeatureSchema.Count];
        for (int f = 0; f < order.Length; f++)
        {
            order[f] = f;
        }

        // Partial selection of the largest |contribution|; 78 entries, so a simple pass per pick is enough.
        for (int pick = 0; pick < _explainTop; pick++)
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
            top.Add(new FeatureContribution(FeatureSchema.Get(feature).Name, c.Row[feature], contributions[feature]));
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
