using System.Globalization;
using System.Net;
using Stakeout.FlowMeter.Streaming;

namespace Stakeout.Detection;

/// <summary>Settings every source factory may use.</summary>
public sealed record SourceSettings
{
    /// <summary>How often a followed file is checked for growth, rotation and truncation. Default 200 ms.</summary>
    public TimeSpan FilePoll { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Opens standard input (replaceable in tests).</summary>
    public Func<Stream> OpenStdin { get; init; } = Console.OpenStandardInput;

    /// <summary>Most concurrent TCP senders. Default 64.</summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>Flow meter and capture settings of <c>pcap:</c> and <c>iface:</c> sources (mode, timeouts, interim reports).</summary>
    public FlowFeedOptions PacketFeed { get; init; } = new();
}

/// <summary>
/// Sources by URI scheme, as registered modules: <c>file:PATH</c>, <c>stdin</c>, <c>tcp://127.0.0.1:PORT</c>, and the
/// flow meter's <c>pcap:FILE</c> and <c>iface:NAME</c> are built in; others (the cluster's <c>nats://</c>) register
/// without touching the pipeline.
/// </summary>
public sealed class FlowSourceRegistry
{
    private readonly Dictionary<string, Func<string, SourceSettings, IFlowSource>> _factories = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The built-in sources.</summary>
    public static FlowSourceRegistry CreateDefault()
    {
        var registry = new FlowSourceRegistry();
        registry.Register("file", (rest, s) => new FileTailSource(rest, s.FilePoll));
        registry.Register("stdin", (_, s) => new StreamFlowSource("stdin", s.OpenStdin));
        registry.Register("tcp", (rest, s) => new TcpFlowSource(ParseEndpoint(rest), s.MaxConnections));
        registry.Register("pcap", (rest, s) => new PacketFlowSource(FlowSource.Parse("pcap:" + rest), s.PacketFeed));
        registry.Register("iface", (rest, s) => new PacketFlowSource(FlowSource.Parse("iface:" + rest), s.PacketFeed));
        return registry;
    }

    /// <summary>Registered schemes.</summary>
    public IReadOnlyCollection<string> Schemes => _factories.Keys;

    /// <summary>Registers a factory for <paramref name="scheme"/>; it receives what follows <c>scheme:</c> (and <c>//</c>).</summary>
    public void Register(string scheme, Func<string, SourceSettings, IFlowSource> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scheme);
        ArgumentNullException.ThrowIfNull(factory);
        _factories[scheme] = factory;
    }

    /// <summary>Creates the source <paramref name="uri"/> names; an unknown scheme is an error listing the known ones.</summary>
    public IFlowSource Create(string uri, SourceSettings? settings = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uri);
        settings ??= new SourceSettings();
        int colon = uri.IndexOf(':', StringComparison.Ordinal);
        string scheme = colon < 0 ? uri : uri[..colon];
        string rest = colon < 0 ? "" : uri[(colon + 1)..];
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            rest = rest[2..];
        }

        if (!_factories.TryGetValue(scheme, out var factory))
        {
            throw new ArgumentException($"no flow source for '{uri}': known schemes are {string.Join(", ", _factories.Keys.Order(StringComparer.Ordinal).Select(s => s + ":"))}.", nameof(uri));
        }

        if (scheme.Equals("file", StringComparison.OrdinalIgnoreCase) && rest.Length == 0)
        {
            throw new ArgumentException($"'{uri}' names no file; write file:PATH.", nameof(uri));
        }

        return factory(rest, settings);
    }

    private static IPEndPoint ParseEndpoint(string text)
    {
        text = text.TrimEnd('/');
        if (!IPEndPoint.TryParse(text, out var endpoint) || !text.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'tcp://{text}' is not an address and port; write tcp://127.0.0.1:PORT.", nameof(text));
        }

        if (endpoint.Port is < 0 or > 65535)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"port {endpoint.Port} is out of range."), nameof(text));
        }

        return endpoint;
    }
}
