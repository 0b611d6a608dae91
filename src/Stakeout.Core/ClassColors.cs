using System.Globalization;

namespace Stakeout.Core;

/// <summary>
/// The one colour table of Stakeout: every report and the dashboard colour a class by it, so a class looks the same in
/// every view. A class takes its family's colour (families come from <see cref="LabelTaxonomy"/>); where several classes of
/// one family share a plot, <see cref="Assign"/> gives them shades of the family colour, darker first, in the taxonomy's
/// fixed class order.
/// </summary>
public static class ClassColors
{
    /// <summary>An alert raised by the anomaly score rather than by a class.</summary>
    public const string AnomalyName = "anomaly";

    /// <summary>Colour of an alert raised by the anomaly score.</summary>
    public const string Anomaly = "#17becf";

    /// <summary>Colour of any label that is neither a known class nor a family.</summary>
    public const string Unknown = "#393b79";

    private static readonly (string Family, string Color)[] FamilyTable =
    [
        (LabelTaxonomy.Benign, "#2ca02c"),
        ("DoS", "#d62728"),
        ("DDoS", "#ff7f0e"),
        ("PortScan", "#1f77b4"),
        ("BruteForce", "#9467bd"),
        ("WebAttack", "#8c564b"),
        ("Bot", "#e377c2"),
        ("Infiltration", "#7f7f7f"),
        ("Heartbleed", "#bcbd22"),
    ];

    /// <summary>Family → colour, in the taxonomy's family order.</summary>
    public static IReadOnlyList<(string Family, string Color)> Families => FamilyTable;

    /// <summary>The colour of a label (class, family or <see cref="AnomalyName"/>): its family's colour, else <see cref="Unknown"/>.</summary>
    public static string Of(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        if (string.Equals(label.Trim(), AnomalyName, StringComparison.OrdinalIgnoreCase))
        {
            return Anomaly;
        }

        if (!LabelTaxonomy.TryResolveKnown(label, out var definition))
        {
            return Unknown;
        }

        foreach (var (family, color) in FamilyTable)
        {
            if (string.Equals(family, definition.Family, StringComparison.Ordinal))
            {
                return color;
            }
        }

        return Unknown;
    }

    /// <summary>
    /// Colours for the labels of one plot: a label alone in its family gets the family colour; several classes of one
    /// family get shades of it, darkest first, ordered as in <see cref="LabelTaxonomy.Classes"/> (unknown labels after,
    /// by ordinal name). Unknown labels share <see cref="Unknown"/>.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Assign(IEnumerable<string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var distinct = labels.Distinct(StringComparer.Ordinal).ToList();
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var group in distinct.GroupBy(FamilyKey, StringComparer.Ordinal))
        {
            var members = group.OrderBy(TaxonomyOrder).ThenBy(l => l, StringComparer.Ordinal).ToList();
            string baseColor = Of(members[0]);
            if (members.Count == 1 || baseColor == Unknown || baseColor == Anomaly)
            {
                foreach (var m in members)
                {
                    result[m] = Of(m);
                }

                continue;
            }

            for (int i = 0; i < members.Count; i++)
            {
                result[members[i]] = Shade(baseColor, i, members.Count);
            }
        }

        return result;
    }

    /// <summary>
    /// Shade <paramref name="index"/> of <paramref name="count"/> of <paramref name="hex"/>: from 35 % darker (index 0)
    /// to 35 % lighter (last), so the family colour sits in the middle of the range.
    /// </summary>
    public static string Shade(string hex, int index, int count)
    {
        ArgumentNullException.ThrowIfNull(hex);
        if (hex.Length != 7 || hex[0] != '#')
        {
            throw new ArgumentException($"colour '{hex}' is not #rrggbb.", nameof(hex));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        double t = count == 1 ? 0 : -0.35 + (0.7 * index / (count - 1));
        int r = int.Parse(hex.AsSpan(1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        int g = int.Parse(hex.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        int b = int.Parse(hex.AsSpan(5, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture, $"#{Mix(r, t):x2}{Mix(g, t):x2}{Mix(b, t):x2}");
    }

    private static int Mix(int channel, double t) =>
        (int)Math.Round(t < 0 ? channel * (1 + t) : channel + ((255 - channel) * t));

    private static string FamilyKey(string label) =>
        LabelTaxonomy.TryResolveKnown(label, out var d) ? d.Family : "\u0000unknown:" + label;

    private static int TaxonomyOrder(string label)
    {
        if (!LabelTaxonomy.TryResolveKnown(label, out var d))
        {
            return int.MaxValue;
        }

        for (int i = 0; i < LabelTaxonomy.Classes.Count; i++)
        {
            if (string.Equals(LabelTaxonomy.Classes[i].Name, d.Name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1; // a family name sorts before its classes
    }
}
