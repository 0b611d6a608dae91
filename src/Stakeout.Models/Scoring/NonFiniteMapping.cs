using Stakeout.Core;

namespace Stakeout.Models.Scoring;

/// <summary>The manifest's <c>non_finite</c> policies: how NaN and infinities reach the model.</summary>
internal static class NonFiniteMapping
{
    /// <summary>NaN → 0, +∞ → float.MaxValue, −∞ → −float.MaxValue before any comparison (what the trainer feeds ML.NET).</summary>
    public const string NanZeroInfMax = "nan-zero-inf-max";

    /// <summary>NaN is LightGBM-missing (routed by each node's missing type); infinities are compared as values.</summary>
    public const string Missing = "missing";

    public static bool IsKnown(string policy) => policy is NanZeroInfMax or Missing;

    /// <summary>
    /// Copies one canonical row into <paramref name="x"/> as doubles (LightGBM compares in double), applying the policy.
    /// </summary>
    public static void Prepare(ReadOnlySpan<float> row, Span<double> x, bool nanZeroInfMax)
    {
        for (int i = 0; i < FeatureSchema.Count; i++)
        {
            float v = row[i];
            if (nanZeroInfMax && !float.IsFinite(v))
            {
                v = float.IsNaN(v) ? 0f : float.IsPositiveInfinity(v) ? float.MaxValue : -float.MaxValue;
            }

            x[i] = v;
        }
    }
}
