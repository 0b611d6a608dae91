using System.Globalization;
using System.Net;
using System.Security.Cryptography;

namespace Stakeout.Dashboard;

/// <summary>
/// Where the dashboard listens and who may read it. Loopback needs nothing; any other address needs a token of at least
/// <see cref="MinTokenLength"/> characters (given, or generated with <see cref="GenerateToken"/>), or
/// <see cref="Validate"/> refuses: a dashboard shows source addresses, targets and model details that must not leak to
/// the network.
/// </summary>
public sealed record DashboardOptions
{
    /// <summary>Shortest token accepted.</summary>
    public const int MinTokenLength = 16;

    /// <summary>The address and port to listen on (port 0: any free port).</summary>
    public required IPEndPoint Listen { get; init; }

    /// <summary>The access token (required off loopback; optional on it).</summary>
    public string? Token { get; init; }

    /// <summary>How often the page gets new alerts.</summary>
    public TimeSpan PushInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often the page gets the aggregates.</summary>
    public TimeSpan StatsInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Most alerts sent to one page per push; the rest are sampled out and counted.</summary>
    public int MaxAlertsPerPush { get; init; } = 25;

    /// <summary>Most pages streaming at once (each holds one bounded buffer).</summary>
    public int MaxStreams { get; init; } = 32;

    /// <summary>True when <see cref="Listen"/> is a loopback address.</summary>
    public bool IsLoopback => IPAddress.IsLoopback(Listen.Address);

    /// <summary>Parses <c>HOST:PORT</c> (<c>127.0.0.1:8080</c>, <c>[::1]:8080</c>, <c>localhost:8080</c>, <c>0.0.0.0:8080</c>); <paramref name="option"/> names the option in the error.</summary>
    public static IPEndPoint ParseEndpoint(string text, string option)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim();
        if (t.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            t = t[7..].TrimEnd('/');
        }

        if (t.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase))
        {
            t = "127.0.0.1" + t[9..];
        }

        if (!IPEndPoint.TryParse(t, out var endpoint) || !t.Contains(':', StringComparison.Ordinal) || t.EndsWith(']'))
        {
            throw new ArgumentException($"{option} takes ADDRESS:PORT, e.g. 127.0.0.1:8080 or [::1]:8080; got '{text}'.", option);
        }

        return endpoint;
    }

    /// <summary>A fresh random token (32 bytes, URL-safe base64).</summary>
    public static string GenerateToken() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The command-line option that sets the token, named in the refusal message.</summary>
    public string TokenOptionName { get; init; } = "--dashboard-token";

    /// <summary>Checks the options; the message says which one is wrong and what to do.</summary>
    public DashboardOptions Validate()
    {
        ArgumentNullException.ThrowIfNull(Listen);
        if (Token is not null && (Token.Length < MinTokenLength || Token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
        {
            throw new ArgumentException($"{TokenOptionName}: the dashboard token must be at least {MinTokenLength} characters without spaces (or 'generate').");
        }

        if (!IsLoopback && Token is null)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"refusing to serve the dashboard on {Listen}, which is not a loopback address, without a token: give {TokenOptionName} TOKEN (at least {MinTokenLength} characters) or {TokenOptionName} generate, or listen on 127.0.0.1."));
        }

        if (PushInterval <= TimeSpan.Zero || StatsInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("the dashboard's push and stats intervals must be positive.");
        }

        if (MaxAlertsPerPush < 1 || MaxStreams < 1)
        {
            throw new ArgumentException("the dashboard's MaxAlertsPerPush and MaxStreams must be at least 1.");
        }

        return this;
    }
}
