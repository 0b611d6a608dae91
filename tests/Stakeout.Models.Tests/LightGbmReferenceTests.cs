using System.Text.Json;
using System.Text.Json.Serialization;
using Stakeout.Core;
using Stakeout.Models.Scoring;
using static Stakeout.Models.Tests.TestModels;

namespace Stakeout.Models.Tests;

/// <summary>
/// Models trained by LightGBM 4.7 itself on real CIC-IDS2017 rows, with LightGBM's own probabilities, raw scores and
/// TreeSHAP contributions for real and edge-case rows (TestData/lightgbm-reference, written by tools/LightGbmReference).
/// The scorer must read exactly what LightGBM writes and predict what LightGBM predicts.
/// </summary>
public sealed class LightGbmReferenceTests
{
    public static TheoryData<string> Cases => new("families-multiclass", "binary-nan", "binary-zero-as-missing");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Score_LightGbmTrainedModel_MatchesLightGbmPredictions(string name)
    {
        var (reference, scorer) = Load(name);
        int k = reference.Classes.Length;

        for (int r = 0; r < reference.Rows.Length; r++)
        {
            float[] p = Probabilities(scorer, reference.Rows[r]);
            double[] expected = k == 2 ? [1 - reference.Probabilities[r][0], reference.Probabilities[r][0]] : reference.Probabilities[r];
            for (int c = 0; c < k; c++)
            {
                Assert.True(Math.Abs(expected[c] - p[c]) <= 1e-6, $"{name} row {r} class {c}: LightGBM {expected[c]}, Stakeout {p[c]}.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RawScore_LightGbmTrainedModel_MatchesLightGbmRawScores(string name)
    {
        var (reference, scorer) = Load(name);
        int k = reference.Classes.Length;
        var raw = new double[k];

        for (int r = 0; r < reference.Rows.Length; r++)
        {
            ((TreeEnsembleScorer)scorer).RawScore(reference.Rows[r], raw);
            double[] expected = k == 2 ? [-reference.Raw[r][0], reference.Raw[r][0]] : reference.Raw[r];
            for (int c = 0; c < k; c++)
            {
                Assert.True(Math.Abs(expected[c] - raw[c]) <= 1e-9, $"{name} row {r} class {c}: LightGBM {expected[c]}, Stakeout {raw[c]}.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Explain_LightGbmTrainedModel_MatchesLightGbmTreeShap(string name)
    {
        var (reference, scorer) = Load(name);
        int k = reference.Classes.Length;
        int n = reference.Features.Length;

        for (int r = 0; r < reference.Rows.Length; r++)
        {
            for (int c = 0; c < k; c++)
            {
                double[] phi = Explain(scorer, reference.Rows[r], c);
                int block = k == 2 ? 0 : c; // LightGBM: one block of (inputs + bias) per class; binary has one
                double sign = k == 2 && c == 0 ? -1 : 1;
                for (int j = 0; j <= n; j++)
                {
                    double expected = sign * reference.Contributions[r][(block * (n + 1)) + j];
                    double actual = j < n ? phi[reference.Features[j]] : phi[FeatureSchema.Count];
                    Assert.True(Math.Abs(expected - actual) <= 1e-9 * Math.Max(1, Math.Abs(expected)), $"{name} row {r} class {c} input {j}: LightGBM {expected}, Stakeout {actual}.");
                }
            }
        }
    }

    private static (Reference Reference, IFlowScorer Scorer) Load(string name)
    {
        var reference = ReadReference(TestData("lightgbm-reference", name + ".expected.json"));
        string text = File.ReadAllText(TestData("lightgbm-reference", name + ".txt"));
        return (reference, LightGbm(text, reference.Features, reference.Classes, reference.NonFinite));
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    internal static Reference ReadReference(string path) => JsonSerializer.Deserialize<Reference>(File.ReadAllText(path), JsonOptions)!;

    internal sealed record Reference(int[] Features, string[] Classes, string NonFinite, float[][] Rows, double[][] Probabilities, double[][] Raw, double[][] Contributions);
}
