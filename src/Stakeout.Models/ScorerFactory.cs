namespace Stakeout.Models;

/// <summary>Picks the scorer for a manifest's model kind.</summary>
internal static class ScorerFactory
{
    public static IFlowScorer Create(ModelArtifact artifact, string source) => artifact.Manifest.ModelKind switch
    {
        _ => throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, $"model kind '{artifact.Manifest.ModelKind}' has no scorer in this Stakeout."),
    };
}
