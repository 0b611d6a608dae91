namespace Stakeout.Dashboard;

/// <summary>
/// Top-N heavy hitters in bounded memory (Metwally, Agrawal, El Abbadi 2005, "Space-Saving"): at most
/// <c>capacity</c> counters; a new key takes over the smallest counter and inherits its count as its error bound. Every
/// key whose true count exceeds total/capacity is guaranteed to be held. Not thread-safe: the caller serialises.
/// </summary>
internal sealed class SpaceSaving
{
    private readonly int _capacity;
    private readonly Dictionary<string, Entry> _entries;

    public SpaceSaving(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _entries = new Dictionary<string, Entry>(capacity, StringComparer.Ordinal);
    }

    /// <summary>Keys held right now (never more than the capacity).</summary>
    public int Count => _entries.Count;

    /// <summary>Everything counted.</summary>
    public long Total { get; private set; }

    public void Add(string key, long weight = 1)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(weight, 1);
        Total += weight;
        if (_entries.TryGetValue(key, out var entry))
        {
            entry.Count += weight;
            return;
        }

        if (_entries.Count < _capacity)
        {
            _entries[key] = new Entry { Count = weight };
            return;
        }

        // Evict the minimum. O(capacity), and capacity is small (hundreds); a stream-summary list would make it O(1).
        string? minKey = null;
        Entry? min = null;
        foreach (var (k, e) in _entries)
        {
            if (min is null || e.Count < min.Count)
            {
                minKey = k;
                min = e;
            }
        }

        _entries.Remove(minKey!);
        _entries[key] = new Entry { Count = min!.Count + weight, Error = min.Count };
    }

    /// <summary>The <paramref name="n"/> largest, count descending then key, with each count's overestimate bound.</summary>
    public IReadOnlyList<TopCount> Top(int n) =>
        [.. _entries.OrderByDescending(kv => kv.Value.Count).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(n)
            .Select(kv => new TopCount(kv.Key, kv.Value.Count, kv.Value.Error))];

    private sealed class Entry
    {
        public long Count { get; set; }

        public long Error { get; init; }
    }
}

/// <summary>A heavy hitter: its estimated count and how much of it may be overestimate.</summary>
/// <param name="Name">Address or address:port.</param>
/// <param name="Count">Estimated alerting flows (never below the true count).</param>
/// <param name="Error">Upper bound of the overestimate (0 when exact).</param>
public sealed record TopCount(string Name, long Count, long Error);
