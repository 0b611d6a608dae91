namespace Stakeout.Models;

/// <summary>
/// Scores flows with a compiled model. Built once from a <see cref="ModelArtifact"/> (<see cref="ModelArtifact.CreateScorer"/>),
/// immutable afterwards and safe to call from several threads at once: all per-call state lives in the caller's buffers.
/// Inputs are always rows of <c>Stakeout.Core.FeatureSchema.Count</c> floats in canonical order (a <c>FlowBatch</c> row);
/// the scorer picks the model's own inputs from them as its manifest says.
/// </summary>
public interface IFlowScorer
{
    /// <summary>The manifest of the artifact this scorer was compiled from.</summary>
    ModelManifest Manifest { get; }

    /// <summary>Output classes, in the order of the probabilities <see cref="Score"/> writes.</summary>
    IReadOnlyList<string> Classes { get; }

    /// <summary>Index of the benign class in <see cref="Classes"/> (P(attack) = 1 - P(benign)), or -1 when the model has none.</summary>
    int BenignClassIndex { get; }

    /// <summary>
    /// Scores <c>features.Length / FeatureSchema.Count</c> rows; writes <see cref="Classes"/>.Count probabilities per row,
    /// row-major, into <paramref name="probabilities"/>. Allocates nothing.
    /// </summary>
    void Score(ReadOnlySpan<float> features, Span<float> probabilities);

    /// <summary>
    /// Explains one row's raw score (margin) for class <paramref name="classIndex"/>: writes one additive contribution per
    /// canonical feature (<c>FeatureSchema.Count</c> entries; features the model does not use get 0) followed by the bias
    /// (the expected raw score), so the entries sum to the row's raw score for that class (TreeSHAP for tree models,
    /// weight × scaled value for linear ones).
    /// </summary>
    void Explain(ReadOnlySpan<float> row, int classIndex, Span<double> contributions);
}
