using System.Collections.Frozen;
using System.Text;

namespace Stakeout.Core;

/// <summary>How fine a label is: one of the dataset's 15 classes, one of its attack families, or benign/attack.</summary>
public enum LabelLevel
{
    /// <summary>A CIC-IDS2017 class such as "DoS Hulk" (or a CSE-CIC-IDS2018 class mapped to one).</summary>
    Class = 0,
    /// <summary>An attack family such as "DoS".</summary>
    Family = 1,
    /// <summary>BENIGN or ATTACK.</summary>
    Binary = 2,
}

/// <summary>A label Stakeout knows, with its family and its binary view.</summary>
/// <param name="Name">Canonical name.</param>
/// <param name="Level">The finest level this name is defined at.</param>
/// <param name="Family">The family it belongs to (itself for a family).</param>
/// <param name="IsAttack">False only for BENIGN.</param>
/// <param name="Known">False for a label that is not in the taxonomy (kept verbatim as a class of its own).</param>
public sealed record LabelDefinition(string Name, LabelLevel Level, string Family, bool IsAttack, bool Known = true)
{
    /// <summary>The binary view: <see cref="LabelTaxonomy.Benign"/> or <see cref="LabelTaxonomy.Attack"/>.</summary>
    public string Binary => IsAttack ? LabelTaxonomy.Attack : LabelTaxonomy.Benign;

    /// <summary>This label seen at <paramref name="level"/> (coarser or equal to <see cref="Level"/>).</summary>
    public string At(LabelLevel level)
    {
        if (level < Level)
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, $"Label '{Name}' is a {Level} label; it cannot be refined to {level}.");
        }

        return level switch
        {
            LabelLevel.Class => Name,
            LabelLevel.Family => Family,
            _ => Binary,
        };
    }
}

/// <summary>
/// The label taxonomy as data: the 15 CIC-IDS2017 classes, their families and the binary view, plus every spelling seen
/// in the wild (the cp1252 en dash as a raw 0x96 byte, its mis-encoding C2 96, a real en dash, CSE-CIC-IDS2018 names).
/// </summary>
public static class LabelTaxonomy
{
    /// <summary>The benign class, family and binary label.</summary>
    public const string Benign = "BENIGN";

    /// <summary>The binary label for every attack.</summary>
    public const string Attack = "ATTACK";

    /// <summary>The families, in a fixed order.</summary>
    public static IReadOnlyList<string> Families { get; } =
        [Benign, "DoS", "DDoS", "PortScan", "BruteForce", "WebAttack", "Bot", "Infiltration", "Heartbleed"];

    private static readonly LabelDefinition[] ClassTable =
    [
        new(Benign, LabelLevel.Class, Benign, false),
        new("DoS Hulk", LabelLevel.Class, "DoS", true),
        new("DoS GoldenEye", LabelLevel.Class, "DoS", true),
        new("DoS slowloris", LabelLevel.Class, "DoS", true),
        new("DoS Slowhttptest", LabelLevel.Class, "DoS", true),
        new("DDoS", LabelLevel.Class, "DDoS", true),
        new("PortScan", LabelLevel.Class, "PortScan", true),
        new("FTP-Patator", LabelLevel.Class, "BruteForce", true),
        new("SSH-Patator", LabelLevel.Class, "BruteForce", true),
        new("Web Attack - Brute Force", LabelLevel.Class, "WebAttack", true),
        new("Web Attack - XSS", LabelLevel.Class, "WebAttack", true),
        new("Web Attack - Sql Injection", LabelLevel.Class, "WebAttack", true),
        new("Bot", LabelLevel.Class, "Bot", true),
        new("Infiltration", LabelLevel.Class, "Infiltration", true),
        new("Heartbleed", LabelLevel.Class, "Heartbleed", true),
        // CSE-CIC-IDS2018 attacks with no CIC-IDS2017 counterpart keep classes of their own.
        new("DDoS HOIC", LabelLevel.Class, "DDoS", true),
        new("DDoS LOIC-UDP", LabelLevel.Class, "DDoS", true),
    ];

    /// <summary>Other spellings → canonical name. Keys are compared after <see cref="NormalizeKey"/>.</summary>
    private static readonly (string Spelling, string Canonical)[] AliasTable =
    [
        ("Benign", Benign), ("Normal", Benign),
        ("Web Attack Brute Force", "Web Attack - Brute Force"),
        ("Web Attack XSS", "Web Attack - XSS"),
        ("Web Attack Sql Injection", "Web Attack - Sql Injection"),
        // CSE-CIC-IDS2018 spellings.
        ("DoS attacks-Hulk", "DoS Hulk"), ("DoS attacks-GoldenEye", "DoS GoldenEye"),
        ("DoS attacks-Slowloris", "DoS slowloris"), ("DoS attacks-SlowHTTPTest", "DoS Slowhttptest"),
        ("DDoS attacks-LOIC-HTTP", "DDoS"), ("DDOS attack-HOIC", "DDoS HOIC"), ("DDOS attack-LOIC-UDP", "DDoS LOIC-UDP"),
        ("FTP-BruteForce", "FTP-Patator"), ("SSH-Bruteforce", "SSH-Patator"),
        ("Brute Force -Web", "Web Attack - Brute Force"), ("Brute Force -XSS", "Web Attack - XSS"),
        ("SQL Injection", "Web Attack - Sql Injection"), ("Infilteration", "Infiltration"),
        // Family spellings.
        ("Web Attack", "WebAttack"), ("Brute Force", "BruteForce"), ("Port Scan", "PortScan"),
        // Binary spellings.
        ("Attack", Attack), ("Malicious", Attack), ("Anomaly", Attack),
    ];

    private static readonly FrozenDictionary<string, LabelDefinition> ByKey = Build();

    /// <summary>The 15 CIC-IDS2017 classes and the CSE-CIC-IDS2018 extras, in a fixed order.</summary>
    public static IReadOnlyList<LabelDefinition> Classes => ClassTable;

    /// <summary>The 15 CIC-IDS2017 classes only.</summary>
    public static IReadOnlyList<LabelDefinition> CicIds2017Classes { get; } = ClassTable[..15];

    /// <summary>
    /// Resolves a raw label to its definition. Unknown labels are kept verbatim (trimmed) as a class of their own,
    /// with <see cref="LabelDefinition.Known"/> false, so a site's own labels survive; callers report them.
    /// </summary>
    public static LabelDefinition Resolve(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        string trimmed = raw.Trim();
        if (ByKey.TryGetValue(NormalizeKey(trimmed), out var known))
        {
            return known;
        }

        bool benign = string.Equals(trimmed, Benign, StringComparison.OrdinalIgnoreCase);
        return new LabelDefinition(trimmed, LabelLevel.Class, trimmed, !benign, Known: false);
    }

    /// <summary>Tries to resolve a raw label to a known definition.</summary>
    public static bool TryResolveKnown(string raw, out LabelDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(raw);
        return ByKey.TryGetValue(NormalizeKey(raw), out definition!);
    }

    /// <summary>
    /// The comparison key of a label: case folded, every dash-like character (U+0096, U+2013, U+2014, '-') and white space
    /// removed. "Web Attack \x96 XSS", "Web Attack – XSS" and "web attack - xss" share one key.
    /// </summary>
    public static string NormalizeKey(ReadOnlySpan<char> label)
    {
        var sb = new StringBuilder(label.Length);
        foreach (char c in label)
        {
            if (char.IsWhiteSpace(c) || c is '-' or '_' or '\u0096' or '\u2013' or '\u2014' or '\u00C2' or '\uFFFD')
            {
                continue;
            }

            sb.Append(char.ToLowerInvariant(c));
        }

        return sb.ToString();
    }

    private static FrozenDictionary<string, LabelDefinition> Build()
    {
        var map = new Dictionary<string, LabelDefinition>(StringComparer.Ordinal);
        foreach (var c in ClassTable)
        {
            map[NormalizeKey(c.Name)] = c;
        }

        foreach (string family in Families)
        {
            // A name that is both a class and a family (DDoS, Bot, ...) resolves to the class: the finer level.
            map.TryAdd(NormalizeKey(family), new LabelDefinition(family, LabelLevel.Family, family, family != Benign));
        }

        map[NormalizeKey(Attack)] = new LabelDefinition(Attack, LabelLevel.Binary, Attack, true);
        foreach (var (spelling, canonical) in AliasTable)
        {
            map[NormalizeKey(spelling)] = map[NormalizeKey(canonical)];
        }

        return map.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
