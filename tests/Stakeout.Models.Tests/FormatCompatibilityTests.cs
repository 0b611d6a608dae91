using Stakeout.Models.Scoring;
using static Stakeout.Models.Tests.TestModels;

namespace Stakeout.Models.Tests;

/// <summary>
/// Every artifact format version keeps one real artifact in TestData/format-vN/, written by the Stakeout of that time,
/// and this Stakeout must keep loading it and predicting the same. Never regenerate an existing version's file:
/// add a new directory when the format changes (docs/model-format.md, "Versioning").
/// </summary>
public sealed class FormatCompatibilityTests
{
    [Fact]
    public void Load_FormatV1Artifact_VerifiesSignatureAndManifest()
    {
        byte[] trusted = ModelSigningKey.LoadPublicKey(TestData("format-v1", "signer.pub"));

        var artifact = ModelArtifact.Load(TestData("format-v1", "families-lightgbm.stakeout"), new ArtifactLoadOptions { RequireSigned = true, TrustedKeys = [trusted] });

        Assert.Equal(1, artifact.FormatVersion);
        Assert.Equal(ModelSigningKey.KeyIdOf(trusted), artifact.Signature!.KeyId);
        Assert.Equal("lightgbm", artifact.Manifest.ModelKind);
        Assert.Equal(NonFiniteMapping.NanZeroInfMax, artifact.Manifest.NonFinite);
        Assert.Equal(["BENIGN", "DoS", "PortScan", "BruteForce", "WebAttack", "Bot", "Infiltration"], artifact.Manifest.Classes);
        Assert.Equal(12, artifact.Manifest.Features.Count);
        Assert.Equal(64, artifact.Manifest.Training.Files[0].Sha256.Length);
        Assert.InRange(artifact.Manifest.Metrics["accuracy"], 0.5, 1.0);
    }

    [Fact]
    public void Score_FormatV1Artifact_PredictsWhatLightGbmPredicted()
    {
        var reference = LightGbmReferenceTests.ReadReference(TestData("format-v1", "families-lightgbm.expected.json"));
        var scorer = ModelArtifact.Load(TestData("format-v1", "families-lightgbm.stakeout")).CreateScorer();

        for (int r = 0; r < reference.Rows.Length; r++)
        {
            float[] p = Probabilities(scorer, reference.Rows[r]);
            for (int c = 0; c < p.Length; c++)
            {
                Assert.True(Math.Abs(reference.Probabilities[r][c] - p[c]) <= 1e-6, $"row {r} class {c}: LightGBM {reference.Probabilities[r][c]}, Stakeout {p[c]}.");
            }
        }
    }
}
