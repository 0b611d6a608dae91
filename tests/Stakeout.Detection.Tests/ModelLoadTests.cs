using Stakeout.Core;
using Stakeout.Models;
using Stakeout.Testing;

namespace Stakeout.Detection.Tests;

public sealed class ModelLoadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-model-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Load_TinyLightGbmArtifact_ScoresAsItsTreesSay()
    {
        string path = Path.Combine(_dir, "m.stakeout");
        TinyModel.Save(path);

        var handle = ModelLoader.Load(path, new DetectionOptions());
        var row = new float[FeatureSchema.Count];
        row[FeatureSchema.DestinationPort] = 80;
        row[FeatureSchema.FlowDuration] = 5_000_000;
        row[FeatureSchema.TotalFwdPackets] = 3;
        var p = new float[3];
        handle.Scorer.Score(row, p);

        Assert.Equal(1, Array.IndexOf(p, p.Max()));
        Assert.Equal(64, handle.Sha256!.Length);
        Assert.Equal([0, 1, 2], handle.RequiredFeatures);
        Assert.Equal(0.5, handle.Thresholds[1]);
    }

    [Fact]
    public void Load_CorruptedArtifact_RefusedWithArtifactError()
    {
        string path = Path.Combine(_dir, "m.stakeout");
        TinyModel.Save(path);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^40] ^= 0x20;
        File.WriteAllBytes(path, bytes);

        Assert.ThrowsAny<ArtifactException>(() => ModelLoader.Load(path, new DetectionOptions()));
    }
}
