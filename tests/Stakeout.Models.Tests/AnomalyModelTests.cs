using System.Text;
using System.Text.Json;
using Stakeout.Core;
using Stakeout.Models.Anomaly;
using Stakeout.Models.Drift;
using static Stakeout.Models.Tests.TestModels;

namespace Stakeout.Models.Tests;

/// <summary>The anomaly section of format 2: its scorer, its explanations, and the artifact round trip with and without it.</summary>
public sealed class AnomalyModelTests
{
    private const int F = 5;

    /// <summary>One feature, four bins of width 1 from t = 0, bin scores 0..3, outside 10.</summary>
    private static HistogramAnomalyModel Small(double threshold = 2.5) => new()
    {
        Bins = 4,
        Features = [F],
        Lower = [0],
        Width = [1],
        Scores = [[0, 1, 2, 3]],
        Outside = [10],
        Threshold = threshold,
        ThresholdSource = "test",
        BenignRows = 100,
    };

    private static TrainingProfile SmallProfile(IReadOnlyList<string> classes) => new()
    {
        Features = [F],
        Edges = [[1.0, 10.0]],
        Classes = [.. classes],
        ClassRows = [.. classes.Select(_ => 10L)],
        Shares = [.. classes.Select(_ => (IReadOnlyList<IReadOnlyList<double>>)[[0.2, 0.5, 0.3]])],
        AnomalyShare = 0.01,
    };

    private static ModelArtifact Logistic(HistogramAnomalyModel? anomaly = null, TrainingProfile? profile = null) => ModelArtifact.Create(
        Manifest("logistic-regression", [1, 14], ["BENIGN", "ATTACK"]),
        Encoding.UTF8.GetBytes("""{"features":[1,14],"min":[0,0],"max":[10,10],"weights":[1.5,-2],"bias":0.25}"""),
        anomaly,
        profile);

    [Theory]
    [InlineData(0f, 0.0)]                   // t = 0: bin 0
    [InlineData(3.4816891f, 1.0)]           // e^1.5 - 1: t = 1.5, bin 1
    [InlineData(19.085537f, 3.0)]           // e^3 - 1: t = 3, bin 3
    [InlineData(float.NaN, 0.0)]            // NaN is 0
    [InlineData(147.41316f, 10.693147)]     // e^5 - 1: t = 5, one bin beyond the last: 10 + ln 2
    [InlineData(-1.7182817f, 10.693147)]    // -(e - 1): t = -1, one bin below the first
    public void ScoreRow_KnownHistogram_KnownAnswer(float value, double expected)
    {
        var scorer = AnomalyScorer.Compile(Small(), "test");

        float score = scorer.ScoreRow(Row((F, value), (F + 1, 1e6f)));

        Assert.Equal(expected, score, 4);
    }

    [Fact]
    public void Score_Batch_EqualsRowByRow()
    {
        var random = new Random(3);
        var model = Small() with { Features = [F, 20], Lower = [0, -2], Width = [1, 0.5], Scores = [[0, 1, 2, 3], [3, 0, 1, 2]], Outside = [10, 7] };
        var scorer = AnomalyScorer.Compile(model, "test");
        var rows = new float[50 * FeatureSchema.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = (float)((random.NextDouble() - 0.3) * 40);
        }

        var batch = new float[50];
        scorer.Score(rows, batch);

        for (int r = 0; r < 50; r++)
        {
            Assert.Equal(scorer.ScoreRow(rows.AsSpan(r * FeatureSchema.Count, FeatureSchema.Count)), batch[r]);
        }
    }

    [Fact]
    public void Explain_AnyRow_TermsSumToScoreAndNameTheUnusualFeature()
    {
        var model = Small() with { Features = [F, 20], Lower = [0, 0], Width = [1, 1], Scores = [[0, 1, 2, 3], [0, 0, 0, 0]], Outside = [10, 10] };
        var scorer = AnomalyScorer.Compile(model, "test");
        float[] row = Row((F, 1000f), (20, 1f));
        var contributions = new double[FeatureSchema.Count];

        scorer.Explain(row, contributions);

        Assert.Equal(scorer.ScoreRow(row), contributions.Sum(), 4);
        Assert.True(contributions[F] > 10, $"feature {F} is far outside its bins: {contributions[F]}");
        Assert.Equal(0, contributions[20]);
        Assert.Equal(FeatureSchema.Count - 1, contributions.Count(c => c == 0));
    }

    [Fact]
    public void Compile_ScoresOfWrongLength_SchemaIncompatibleNamingTheFeature()
    {
        var e = Assert.Throws<ArtifactException>(() => AnomalyScorer.Compile(Small() with { Scores = [[0, 1, 2]] }, "m.stakeout"));

        Assert.Equal(ArtifactProblem.SchemaIncompatible, e.Problem);
        Assert.Contains(FeatureSchema.Features[F].Name, e.Message, StringComparison.Ordinal);
        Assert.Contains("3 bin scores, not 4", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_ZeroWidth_SchemaIncompatible()
    {
        var e = Assert.Throws<ArtifactException>(() => AnomalyScorer.Compile(Small() with { Width = [0] }, "m.stakeout"));

        Assert.Equal(ArtifactProblem.SchemaIncompatible, e.Problem);
        Assert.Contains("width", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadToBytes_WithAnomalyAndProfile_RoundTripsExactly()
    {
        var artifact = Logistic(Small(), SmallProfile(["BENIGN", "ATTACK"]));
        byte[] bytes = artifact.ToBytes();

        var read = ModelArtifact.Read(bytes, "m");

        Assert.Equal(2, read.FormatVersion);
        Assert.NotNull(read.AnomalyScorer);
        Assert.Equal(2.5, read.AnomalyScorer!.Threshold);
        Assert.Equal(JsonSerializer.Serialize(artifact.Profile), JsonSerializer.Serialize(read.Profile));
        Assert.Equal(bytes, read.ToBytes());
        Assert.Equal(3f, read.AnomalyScorer.ScoreRow(Row((F, 19.085537f))), 4);
    }

    [Fact]
    public void ReadToBytes_WithoutAnomaly_RoundTripsWithNoAnomalyScore()
    {
        byte[] bytes = Logistic().ToBytes();

        var read = ModelArtifact.Read(bytes, "m");

        Assert.Null(read.AnomalyModel);
        Assert.Null(read.AnomalyScorer);
        Assert.Null(read.Profile);
        Assert.Equal(bytes, read.ToBytes());
        Assert.DoesNotContain("section anomaly", Encoding.ASCII.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ProfileWithOtherClasses_SchemaIncompatible()
    {
        byte[] bytes = Logistic(Small(), SmallProfile(["BENIGN", "DoS"])).ToBytes();

        var e = Assert.Throws<ArtifactException>(() => ModelArtifact.Read(bytes, "m.stakeout"));

        Assert.Equal(ArtifactProblem.SchemaIncompatible, e.Problem);
        Assert.Contains("profile section", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TamperedAnomalySection_Tampered()
    {
        byte[] bytes = Logistic(Small(), SmallProfile(["BENIGN", "ATTACK"])).ToBytes();
        int at = Encoding.ASCII.GetString(bytes).IndexOf("\"threshold\": 2.5", StringComparison.Ordinal);
        bytes[at + 13] = (byte)'9';

        var e = Assert.Throws<ArtifactException>(() => ModelArtifact.Read(bytes, "m.stakeout"));

        Assert.Equal(ArtifactProblem.Tampered, e.Problem);
    }

    [Fact]
    public void Load_FormatV1Artifact_HasNoAnomalyScoreOrProfile()
    {
        var artifact = ModelArtifact.Load(TestData("format-v1", "families-lightgbm.stakeout"));

        Assert.Equal(1, artifact.FormatVersion);
        Assert.Null(artifact.AnomalyScorer);
        Assert.Null(artifact.Profile);
    }

    [Fact]
    public void Load_FormatV2Artifact_VerifiesSignatureAndCarriesAnomalyModelAndProfile()
    {
        byte[] trusted = ModelSigningKey.LoadPublicKey(TestData("format-v2", "signer.pub"));

        var artifact = ModelArtifact.Load(TestData("format-v2", "families-anomaly.stakeout"), new ArtifactLoadOptions { RequireSigned = true, TrustedKeys = [trusted] });

        Assert.Equal(2, artifact.FormatVersion);
        Assert.Equal(ModelSigningKey.KeyIdOf(trusted), artifact.Signature!.KeyId);
        Assert.Equal(77, artifact.AnomalyModel!.Features.Count);
        Assert.Equal(16, artifact.AnomalyModel.Bins);
        Assert.Equal(artifact.Manifest.Classes, artifact.Profile!.Classes);
        // The profile counts every copy of a duplicated training row: at least the distinct training rows.
        Assert.InRange(artifact.Profile.ClassRows.Sum(), artifact.Manifest.Training.TrainRows, artifact.Manifest.Training.TrainRows + artifact.Manifest.Training.DuplicatesRemoved);
    }

    [Fact]
    public void Score_FormatV2Artifact_MatchesAnIndependentReading()
    {
        // families-anomaly.expected.json was written by bench/compare/hbos_reference.py, which reads the anomaly section
        // with numpy from its documented rule, not with this code.
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestData("format-v2", "families-anomaly.expected.json")));
        var scorer = ModelArtifact.Load(TestData("format-v2", "families-anomaly.stakeout")).AnomalyScorer!;
        var rows = doc.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        var expected = doc.RootElement.GetProperty("anomaly_scores").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(40, rows.Length);
        Assert.Equal(doc.RootElement.GetProperty("threshold").GetDouble(), scorer.Threshold);

        for (int r = 0; r < rows.Length; r++)
        {
            float[] row = [.. rows[r].EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? float.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : v.GetSingle())];
            Assert.True(Math.Abs(expected[r] - scorer.ScoreRow(row)) <= 1e-3, $"row {r}: reference {expected[r]}, Stakeout {scorer.ScoreRow(row)}");
        }
    }

    [Fact]
    public void ScoreParallel_LargeBatch_EqualsOneCall()
    {
        var scorer = ModelArtifact.Load(TestData("format-v2", "families-anomaly.stakeout")).AnomalyScorer!;
        var random = new Random(7);
        int n = 3 * ParallelScoring.MinRowsPerThread + 5;
        var rows = new float[n * FeatureSchema.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = (float)(random.NextDouble() * 1000);
        }

        var one = new float[n];
        var parallel = new float[n];
        scorer.Score(rows, one);
        scorer.ScoreParallel(rows, parallel, 2);

        Assert.Equal(one, parallel);
    }
}
