using Stakeout.Core;

namespace Stakeout.Models;

/// <summary>Checks that a manifest describes a model this Stakeout can feed: known features, classes, a sane threshold.</summary>
internal static class ManifestValidation
{
    public static void Check(ModelManifest m, string source)
    {
        if (m.SchemaVersion != 1)
        {
            throw new ArtifactException(source, ArtifactProblem.UnknownVersion, $"manifest schema version {m.SchemaVersion}; this Stakeout reads version 1.");
        }

        if (!ScorerFactory.IsKnown(m.ModelKind))
        {
            throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, $"model kind '{m.ModelKind}' is not one this Stakeout scores ('{ScorerFactory.LightGbm}', '{ScorerFactory.LogisticRegression}').");
        }

        if (!Scoring.NonFiniteMapping.IsKnown(m.NonFinite))
        {
            throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, $"non_finite policy '{m.NonFinite}' is unknown ('{Scoring.NonFiniteMapping.NanZeroInfMax}' or '{Scoring.NonFiniteMapping.Missing}').");
        }

        if (!Enum.TryParse<LabelLevel>(m.LabelLevel, ignoreCase: true, out _))
        {
            throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, $"label level '{m.LabelLevel}' is not 'class', 'family' or 'binary'.");
        }

        if (m.Features.Count == 0)
        {
            throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, "the manifest lists no input features.");
        }

        var seen = new HashSet<int>();
        foreach (var f in m.Features)
        {
            if ((uint)f.Index >= FeatureSchema.Count)
            {
                throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, $"feature '{f.Name}' has index {f.Index}; this Stakeout knows features 0..{FeatureSchema.Count - 1}.");
            }

            string expected = FeatureSchema.Features[f.Index].Name;
            if (!string.Equals(expected, f.Name, StringComparison.Ordinal))
            {
                throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, $"feature {f.Index} is '{f.Name}' in the model but '{expected}' in this Stakeout's schema.");
            }

            if (!seen.Add(f.Index))
            {
                throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, $"feature '{f.Name}' is listed twice.");
            }
        }

        if (m.Classes.Count < 2 || m.Classes.Distinct(StringComparer.Ordinal).Count() != m.Classes.Count)
        {
            throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, $"the model needs at least two distinct classes; it lists [{string.Join(", ", m.Classes)}].");
        }

        if (!(m.Threshold is >= 0 and <= 1))
        {
            throw new ArtifactException(source, ArtifactProblem.Malformed, $"threshold {m.Threshold} is not in [0, 1].");
        }
    }
}
