using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Stakeout.Core;

/// <summary>Guard clauses for public boundaries. Messages name the argument and say what was expected.</summary>
public static class Guard
{
    /// <summary>Throws when <paramref name="value"/> is null.</summary>
    public static T NotNull<T>([NotNull] T? value, [CallerArgumentExpression(nameof(value))] string? name = null)
        where T : class
        => value ?? throw new ArgumentNullException(name, $"{name} must not be null.");

    /// <summary>Throws when <paramref name="value"/> is null, empty or white space.</summary>
    public static string NotBlank([NotNull] string? value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        ArgumentNullException.ThrowIfNull(value, name);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException($"{name} must not be empty.", name);
        }

        return value;
    }

    /// <summary>Throws when <paramref name="value"/> is outside [min, max].</summary>
    public static int InRange(int value, int min, int max, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be between {min} and {max}; it was {value}.");
        }

        return value;
    }

    /// <summary>Throws when <paramref name="value"/> is not strictly positive.</summary>
    public static int Positive(int value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive; it was {value}.");
        }

        return value;
    }
}
