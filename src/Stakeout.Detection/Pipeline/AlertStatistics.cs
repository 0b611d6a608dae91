using System.Globalization;
using Stakeout.Core;

namespace Stakeout.Detection;

/// <summary>
/// Who attacked and who was attacked, counted per alerting flow (before aggregation): the summary's top sources and
/// targets. Bounded: past <see cref="MaxKeys"/> distinct keys, new ones are counted under "other".
/// </summary>
public sealed class AlertStatistics
{
    /// <summary>Most distinct sources (and targets) tracked.</summary>
    public const int MaxKeys = 100_000;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _sources = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _targets = new(StringComparer.Ordinal);
    private readonly Dictionary<IpAddressValue, string> _ipText = [];

    /// <summary>Top <paramref name="n"/> source addresses by alerting flows.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> TopSources(int n) => Top(_sources, n);

    /// <summary>Top <paramref name="n"/> targets (address:port) by alerting flows.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> TopTargets(int n) => Top(_targets, n);

    internal void Add(in FlowIdentity identity)
    {
        if (!identity.SourceIp.HasValue && !identity.DestinationIp.HasValue)
        {
            return;
        }

        lock (_gate)
        {
            if (identity.SourceIp.HasValue)
            {
                Count(_sources, Text(identity.SourceIp));
            }

            if (identity.DestinationIp.HasValue)
            {
                string port = identity.DestinationPort >= 0 ? ":" + identity.DestinationPort.ToString(CultureInfo.InvariantCulture) : "";
                Count(_targets, Text(identity.DestinationIp) + port);
            }
        }
    }

    private string Text(IpAddressValue ip)
    {
        if (!_ipText.TryGetValue(ip, out var text))
        {
            text = ip.ToString();
            if (_ipText.Count < MaxKeys)
            {
                _ipText[ip] = text;
            }
        }

        return text;
    }

    private static void Count(Dictionary<string, long> map, string key)
    {
        if (map.Count >= MaxKeys && !map.ContainsKey(key))
        {
            key = "other";
        }

        map[key] = map.GetValueOrDefault(key) + 1;
    }

    private IReadOnlyList<KeyValuePair<string, long>> Top(Dictionary<string, long> map, int n)
    {
        lock (_gate)
        {
            return [.. map.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(n)];
        }
    }
}
