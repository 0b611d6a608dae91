using Stakeout.Models.Scoring;

namespace Stakeout.Models;

/// <summary>Picks the scorer for a manifest's model kind and compiles the payload for it.</summary>
internal static class ScorerFactory
{
    /// <summary>"lightgbm": the payload is a LightGBM text model.</summary>
    public const string LightGbm = "lightgbm";

    /// <summary>"logistic-regression": the payload is JSON (features, min, max, weights, bias).</summary>
    public const string LogisticRegression = "logistic-regression";

    public static bool IsKnown(string kind) => kind is LightGbm or LogisticRegression;

    public static IFlowScorer Create(ModelManifest manifest, ReadOnlySpan<byte> payload, string source) => manifest.ModelKind switch
    {
        LightGbm => TreeEnsembleScorer.Compile(manifest, payload, source),
        LogisticRegression => LogisticRegressionScorer.Compile(manifest, payload, source),
        _ => throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, $"model kind '{manifest.ModelKind}' has no scorer in this Stakeout (it knows '{LightGbm}' and '{LogisticRegression}')."),
    };
}
