using System.Text.Json.Serialization;
using Stakeout.Models;

namespace Stakeout.Dashboard;

/// <summary>The model card shown on the page: where the artifact is, its digest, and its manifest as written.</summary>
/// <param name="Source">Artifact path.</param>
/// <param name="Sha256">Artifact SHA-256.</param>
/// <param name="IsSigned">Whether the artifact carries a signature, when known.</param>
/// <param name="Manifest">The manifest (features, classes, threshold, training data, metrics, lineage).</param>
public sealed record ModelCard(
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("sha256")] string? Sha256,
    [property: JsonPropertyName("signed")] bool? IsSigned,
    [property: JsonPropertyName("manifest")] ModelManifest Manifest);

/// <summary>Reads model cards from artifacts.</summary>
public static class ModelCards
{
    /// <summary>Verifies and reads the artifact at <paramref name="path"/> (as detection does) and returns its card.</summary>
    public static ModelCard FromArtifact(string path, ArtifactLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var artifact = ModelArtifact.Load(path, options);
        return new ModelCard(path, artifact.Sha256, artifact.Signature is not null, artifact.Manifest);
    }
}
