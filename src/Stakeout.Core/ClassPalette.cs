using System.Globalization;

namespace Stakeout.Core;

/// <summary>
/// The one table of class colours: every report and the dashboard colour a class the same way, so an analyst who learnt
/// that PortScan is blue in one view finds it blue in every other. Families have a base colour; a CIC-IDS2017 class
/// takes its family's (through <see cref="LabelTaxonomy"/>); where several classes of one family share a view they get
/// shades of it in a fixed order, darker first (<see cref="Assign"/>).
/// </summary>
public static class ClassPalette
{
    /// <summary>Colour of an alert raised by the anomaly score (not a class).</summary>
    public const string Anomaly = "#17becf";

    /// <summary>Colour of a label the taxonomy does not know.</summary>
    public const string Unknown = "#393b79";

    /// <summary>The family colours, as #rrggbb.</summary>
    public static IReadOnlyDictionary<string, string> Families { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [LabelTaxonomy.Benign] = "#2ca02c",
        ["DoS"] = "#d62728",
        ["DDoS"] = "#ff7f0e",
        ["PortScan"] = "#1f77b4",
        ["BruteForce"] = "#9467bd",
        ["WebAttack"] = "#8c564b",
        ["Bot"] = "#e377c2",
        ["Infiltration"] = "#7f7f7f",
        ["Heartbleed"] = "#bcbd22",
    };

    /// <summary>The name used for anomaly alerts in views that mix them with classes.</summary>
    public const string AnomalyLabel = "anomaly";

    /// <summary>
    /// The base colour of a label at any level: a family's own, a class's family colour, ATTACK as DoS red's neutral
    /// counterpart (the unknown colour is kept for labels outside the taxonomy), "anomaly" cyan.
    /// </summary>
    public static string ColorOf(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        if (string.Equals(label.Trim(), AnomalyLabel, StringComparison.OrdinalIgnoreCase))
        {
            return Anomaly;
        }

        if (!LabelTaxonomy.TryResolveKnown(label, out var definition))
        {
            return Unknown;
        }

        if (definition.Level == LabelLevel.Binary)
        {
            // ATTACK (the binary label) has no family: it takes DoS red, the colour of "attack" to most readers.
            return Families["DoS"];
        }

        return Families.TryGetValue(definition.Family, out string? color) ? color : Unknown;
    }

    /// <summary>The family a label's colour comes from (its own name for a family, "anomaly", or null when unknown).</summary>
    public static string? FamilyOf(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        if (string.Equals(label.Trim(), AnomalyLabel, StringComparison.OrdinalIgnoreCase))
        {
            return AnomalyLabel;
        }

        return LabelTaxonomy.TryResolveKnown(label, out var definition) ? definition.Family : null;
    }

    /// <summary>
    /// Colours for the labels of one view: a label alone in its family gets the family colour; several labels of one family
    /// get shades of it, darker first, in the taxonomy's class order (then by name), so "DoS Hulk" is the darkest DoS
    /// shade wherever the four DoS classes appear together. Unknown labels share <see cref="Unknown"/> in shades too.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Assign(IEnumerable<string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var distinct = labels.Distinct(StringComparer.Ordinal).ToList();
        var groups = distinct.GroupBy(l => FamilyOf(l) ?? "\u0001unknown", StringComparer.Ordinal);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            var members = group.OrderBy(ClassOrder).ThenBy(l => l, StringComparer.Ordinal).ToList();
            string baseColor = ColorOf(members[0]);
            for (int i = 0; i < members.Count; i++)
            {
                result[members[i]] = members.Count == 1 ? baseColor : Shade(baseColor, i, members.Count);
            }
        }

        return result;
    }

    /// <summary>
    /// Shade <paramref name="index"/> of <paramref name="count"/> of a colour: from 55 % of it (darker) to a 45 % mix with
    /// white (lighter), evenly spaced, so the base colour sits in the middle of the range.
    /// </summary>
    public static string Shade(string hex, int index, int count)
    {
        ArgumentNullException.ThrowIfNull(hex);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(count, index);
        var (r, g, b) = Parse(hex);
        double t = count == 1 ? 0.5 : (double)index / (count - 1); // 0 = darkest, 1 = lightest
        double Channel(int c) => t < 0.5
            ? c * (0.55 + (0.9 * t))                       // 0.55c .. c
            : c + ((255 - c) * 0.9 * (t - 0.5));           // c .. c + 45 % of the way to white
        return Format(Channel(r), Channel(g), Channel(b));
    }

    /// <summary>Parses #rrggbb.</summary>
    public static (int R, int G, int B) Parse(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        if (hex.Length != 7 || hex[0] != '#')
        {
            throw new FormatException($"colour '{hex}' is not of the form #rrggbb.");
        }

        int v = int.Parse(hex.AsSpan(1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return ((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
    }

    private static string Format(double r, double g, double b) => string.Create(
        CultureInfo.InvariantCulture,
        $"#{Clamp(r):x2}{Clamp(g):x2}{Clamp(b):x2}");

    private static int Clamp(double v) => (int)Math.Clamp(Math.Round(v), 0, 255);

    private static int ClassOrder(string label)
    {
        if (!LabelTaxonomy.TryResolveKnown(label, out var definition))
        {
            return int.MaxValue;
        }

        // Classes first, in the taxonomy's order; a family name after its classes.
        for (int i = 0; i < LabelTaxonomy.Classes.Count; i++)
        {
            if (ReferenceEquals(LabelTaxonomy.Classes[i], definition) || LabelTaxonomy.Classes[i].Name == definition.Name)
            {
                return i;
            }
        }

        return LabelTaxonomy.Classes.Count + 1;
    }
}
