using Stakeout.Core;
using Stakeout.Models;

namespace Stakeout.Detection;

/// <summary>
/// Loads a model artifact for detection and verifies it before use: the container's integrity (and signature, when the
/// load options ask), a scorer built from it, and a trial scoring that must yield finite probabilities summing to 1.
/// The same check guards hot reload, so a bad artifact never replaces a good model.
/// </summary>
public static class ModelLoader
{
    /// <summary>Loads and verifies <paramref name="path"/>; throws <see cref="ArtifactException"/> or <see cref="InvalidDataException"/> naming the problem.</summary>
    public static ModelHandle Load(string path, DetectionOptions options, ArtifactLoadOptions? loadOptions = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(options);
        var artifact = ModelArtifact.Load(path, loadOptions);
        var scorer = artifact.CreateScorer();
        Verify(scorer, path);
        return ModelHandle.Create(scorer, options, path, artifact.Sha256, artifact.AnomalyScorer, artifact.Profile);
    }

    /// <summary>Scores a neutral row and checks the output; throws <see cref="InvalidDataException"/> when it is not a probability distribution.</summary>
    public static void Verify(IFlowScorer scorer, string source)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        int k = scorer.Classes.Count;
        if (k < 2)
        {
            throw new InvalidDataException($"{source}: the model has {k} class(es); detection needs at least 2.");
        }

        var row = new float[FeatureSchema.Count];
        var probabilities = new float[k];
        scorer.Score(row, probabilities);
        double sum = 0;
        foreach (float p in probabilities)
        {
            if (!float.IsFinite(p) || p < 0 || p > 1.0001f)
            {
                throw new InvalidDataException($"{source}: a trial scoring gave probability {p}; the model is not usable.");
            }

            sum += p;
        }

        if (Math.Abs(sum - 1) > 1e-3)
        {
            throw new InvalidDataException($"{source}: a trial scoring gave probabilities summing to {sum:0.####}, not 1; the model is not usable.");
        }
    }
}
