using System.Text;
using Stakeout.Core;
using Stakeout.Models.Scoring;
using static Stakeout.Models.Tests.TestModels;

namespace Stakeout.Models.Tests;

public sealed class LogisticRegressionScorerTests
{
    // Inputs: canonical 1 (Flow Duration) scaled over [0, 100], 14 (Flow Bytes/s) over [0, 10], 2 (Total Fwd Packets) constant.
    private const string Payload = """{ "features": [1, 14, 2], "min": [0, 0, 5], "max": [100, 10, 5], "weights": [2, -1, 7], "bias": 0.5 }""";

    private static IFlowScorer Scorer(string payload = Payload, string nonFinite = NonFiniteMapping.NanZeroInfMax) =>
        ModelArtifact.Create(Manifest("logistic-regression", [1, 14, 2], ["BENIGN", "ATTACK"], nonFinite), Encoding.UTF8.GetBytes(payload)).CreateScorer();

    [Theory]
    // x'1 = 50/100 = 0.5, x'14 = clamp(20/10) = 1, x'2 = 0 (max == min): 2·0.5 − 1·1 + 7·0 + 0.5 = 0.5
    [InlineData(50f, 20f, 0.5)]
    // x'1 = clamp(−1) = 0, x'14 = 0.3: −0.3 + 0.5 = 0.2
    [InlineData(-100f, 3f, 0.2)]
    // NaN → 0 → x'1 = 0; +∞ → float.MaxValue → x'14 = 1: −1 + 0.5 = −0.5
    [InlineData(float.NaN, float.PositiveInfinity, -0.5)]
    public void Score_ScaledClampedLinear_MatchesHandComputed(float duration, float bytesPerSecond, double margin)
    {
        float[] p = Probabilities(Scorer(), Row((1, duration), (14, bytesPerSecond), (2, 9f)));

        Assert.Equal(Sigmoid(margin), p[1], 1e-7);
        Assert.Equal(1 - Sigmoid(margin), p[0], 1e-7);
    }

    [Fact]
    public void Explain_PositiveClass_IsWeightTimesScaledValuePlusBias()
    {
        double[] phi = Explain(Scorer(), Row((1, 50f), (14, 20f), (2, 9f)), 1);

        Assert.Equal(1.0, phi[1], 12);
        Assert.Equal(-1.0, phi[14], 12);
        Assert.Equal(0.0, phi[2], 12);
        Assert.Equal(0.5, phi[FeatureSchema.Count], 12);
        Assert.Equal(0.5, phi.Sum(), 12);
    }

    [Fact]
    public void Explain_NegativeClass_IsNegated()
    {
        float[] row = Row((1, 50f), (14, 3f));

        Assert.Equal(Explain(Scorer(), row, 1).Select(v => -v), Explain(Scorer(), row, 0));
    }

    [Theory]
    [InlineData("""{ "features": [1, 14], "min": [0, 0], "max": [1, 1], "weights": [1, 1], "bias": 0 }""", ArtifactProblem.SchemaIncompatible, "'features' has 2 entries")]
    [InlineData("""{ "features": [1, 15, 2], "min": [0, 0, 0], "max": [1, 1, 1], "weights": [1, 1, 1], "bias": 0 }""", ArtifactProblem.SchemaIncompatible, "input 1 is canonical feature 15")]
    [InlineData("""{ "features": [1, 14, 2], "min": [0, 0, 0], "max": [1, 1, 1], "weights": [1, 1, 1] }""", ArtifactProblem.Malformed, "no 'bias'")]
    [InlineData("""{ "features": [1, 14, 2], "min": [0, 2, 0], "max": [1, 1, 1], "weights": [1, 1, 1], "bias": 0 }""", ArtifactProblem.Malformed, "min <= max")]
    [InlineData("""not json""", ArtifactProblem.Malformed, "not valid JSON")]
    public void Compile_BadPayload_RefusedWithReason(string payload, ArtifactProblem problem, string message)
    {
        var e = Assert.Throws<ArtifactException>(() => Scorer(payload));

        Assert.Equal(problem, e.Problem);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_MissingPolicy_RefusedBecauseLinearModelsHaveNoMissingRule()
    {
        var e = Assert.Throws<ArtifactException>(() => Scorer(nonFinite: NonFiniteMapping.Missing));

        Assert.Equal(ArtifactProblem.SchemaIncompatible, e.Problem);
    }
}
