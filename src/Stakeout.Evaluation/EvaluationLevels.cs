using Stakeout.Core;

namespace Stakeout.Evaluation;

/// <summary>
/// Which level a model and a set of labelled data can be compared at, and how labels move between levels. A model is
/// compared with data at the finest level both have: a class-level model on family-labelled data is scored as families
/// (its class probabilities summed per family); a family-level model on class-labelled data compares families.
/// </summary>
public static class EvaluationLevels
{
    /// <summary>The name used in manifests, reports and on the command line: "class", "family" or "binary".</summary>
    public static string Name(LabelLevel level) => level switch
    {
        LabelLevel.Class => "class",
        LabelLevel.Family => "family",
        LabelLevel.Binary => "binary",
        _ => throw new ArgumentOutOfRangeException(nameof(level), level, "not a label level."),
    };

    /// <summary>Parses "class", "family" or "binary" (as <see cref="Stakeout.Models.ModelManifest.LabelLevel"/> holds it).</summary>
    public static LabelLevel Parse(string level)
    {
        ArgumentNullException.ThrowIfNull(level);
        return level.Trim().ToLowerInvariant() switch
        {
            "class" => LabelLevel.Class,
            "family" => LabelLevel.Family,
            "binary" => LabelLevel.Binary,
            _ => throw new ArgumentException($"label level '{level}' is not one of class, family, binary.", nameof(level)),
        };
    }

    /// <summary>The finest level both sides have: the coarser of the two.</summary>
    public static LabelLevel Shared(LabelLevel model, LabelLevel data) => model >= data ? model : data;

    /// <summary>
    /// A label name seen at <paramref name="level"/>: "DoS Hulk" is "DoS" at family level and "ATTACK" at binary level.
    /// Labels the taxonomy does not know keep their name up to family level and are attacks unless named BENIGN.
    /// Throws <see cref="ArgumentException"/> when the label is coarser than <paramref name="level"/>.
    /// </summary>
    public static string Map(string label, LabelLevel level) => Map(LabelTaxonomy.Resolve(label), level);

    /// <summary>A resolved label seen at <paramref name="level"/>; see <see cref="Map(string, LabelLevel)"/>.</summary>
    public static string Map(LabelDefinition label, LabelLevel level)
    {
        ArgumentNullException.ThrowIfNull(label);
        if (level < label.Level)
        {
            throw new ArgumentException(
                $"label '{label.Name}' is a {Name(label.Level)}-level label and cannot be compared at {Name(level)} level.", nameof(level));
        }

        return label.At(level);
    }
}
