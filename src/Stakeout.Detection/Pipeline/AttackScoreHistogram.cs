using System.Text.Json.Serialization;

namespace Stakeout.Detection;

/// <summary>
/// How the attack scores 1 − P(benign) of every scored flow spread over [0, 1], in <see cref="Bins"/> equal bins (the last
/// one closed): what the detection report plots against the threshold. One writer (the policy stage); readers take a
/// <see cref="Snapshot"/>.
/// </summary>
public sealed class AttackScoreHistogram
{
    /// <summary>Bins over [0, 1].</summary>
    public const int Bins = 100;

    private readonly long[] _counts = new long[Bins];
    private long _undefined;

    /// <summary>Counts the benign-class column of <paramref name="count"/> rows of <paramref name="classes"/> probabilities each.</summary>
    internal void Record(ReadOnlySpan<float> probabilities, int classes, int benignIndex, int count)
    {
        if (benignIndex < 0)
        {
            Interlocked.Add(ref _undefined, count);
            return;
        }

        for (int r = 0; r < count; r++)
        {
            double score = 1.0 - probabilities[(r * classes) + benignIndex];
            if (!(score >= 0 && score <= 1))
            {
                // A model without a benign class, or a NaN probability, has no attack score to place.
                Interlocked.Increment(ref _undefined);
                continue;
            }

            int bin = Math.Min(Bins - 1, (int)(score * Bins));
            Interlocked.Increment(ref _counts[bin]);
        }
    }

    /// <summary>The counts so far.</summary>
    public AttackScoreCounts Snapshot()
    {
        var counts = new long[Bins];
        for (int i = 0; i < Bins; i++)
        {
            counts[i] = Interlocked.Read(ref _counts[i]);
        }

        return new AttackScoreCounts(counts, Interlocked.Read(ref _undefined));
    }
}

/// <summary>Flows per attack-score bin: bin i holds scores in [i/N, (i+1)/N), the last also 1.</summary>
/// <param name="Counts">Flows per bin, N = <see cref="AttackScoreHistogram.Bins"/>.</param>
/// <param name="Undefined">Flows with no attack score (a model without a benign class).</param>
public sealed record AttackScoreCounts(
    [property: JsonPropertyName("counts")] IReadOnlyList<long> Counts,
    [property: JsonPropertyName("undefined")] long Undefined);
