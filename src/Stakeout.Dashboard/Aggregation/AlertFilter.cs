namespace Stakeout.Dashboard;

/// <summary>
/// What a page asked to see: a class (matches the alert's class or its family, exactly), a source (a prefix of the source
/// address, so "192.168.10." selects a subnet), and a severity (this one or higher: 1 = high only). Empty parts match all.
/// </summary>
/// <param name="Class">Class or family name, or null.</param>
/// <param name="Source">Source address prefix, or null.</param>
/// <param name="MaxSeverity">1 to 3, or null.</param>
public sealed record AlertFilter(string? Class = null, string? Source = null, int? MaxSeverity = null)
{
    /// <summary>Longest filter text accepted (a filter is echoed nowhere, but it is bounded all the same).</summary>
    public const int MaxLength = 200;

    /// <summary>Matches everything.</summary>
    public static AlertFilter All { get; } = new();

    /// <summary>Builds a filter from query-string values; a bad severity or an over-long value is an <see cref="ArgumentException"/> naming it.</summary>
    public static AlertFilter Parse(string? cls, string? source, string? severity)
    {
        cls = Clean(cls, "class");
        source = Clean(source, "src");
        int? max = null;
        if (!string.IsNullOrWhiteSpace(severity))
        {
            if (!int.TryParse(severity, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int s) || s is < 1 or > 3)
            {
                throw new ArgumentException($"severity must be 1, 2 or 3 (this severity or higher); got '{Truncate(severity)}'.", nameof(severity));
            }

            max = s;
        }

        return new AlertFilter(cls, source, max);
    }

    /// <summary>True when <paramref name="alert"/> passes every part of the filter.</summary>
    public bool Matches(DashboardAlert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return (Class is null || string.Equals(alert.Signature, Class, StringComparison.Ordinal) || string.Equals(alert.Category, Class, StringComparison.Ordinal))
            && (Source is null || alert.SourceIp.StartsWith(Source, StringComparison.Ordinal))
            && (MaxSeverity is null || alert.Severity <= MaxSeverity);
    }

    private static string? Clean(string? value, string name)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (value.Length > MaxLength)
        {
            throw new ArgumentException($"{name} is longer than {MaxLength} characters.", name);
        }

        return value.Trim();
    }

    private static string Truncate(string s) => s.Length <= 20 ? s : s[..20] + "...";
}
