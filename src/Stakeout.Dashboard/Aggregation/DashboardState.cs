using System.Threading.Channels;
using Stakeout.Core;

namespace Stakeout.Dashboard;

/// <summary>Bounds of everything the dashboard keeps in memory, validated once.</summary>
public sealed record DashboardLimits
{
    /// <summary>Recent alerts kept for the stream and the detail page.</summary>
    public int RecentAlerts { get; init; } = 2000;

    /// <summary>Buckets in the alerts-over-time and flows/s windows.</summary>
    public int Buckets { get; init; } = 300;

    /// <summary>Width of one bucket (1 s live; a stored run picks its own to span the run).</summary>
    public TimeSpan BucketWidth { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Classes with a series of their own; the rest share "other".</summary>
    public int MaxClasses { get; init; } = 24;

    /// <summary>Counters of the top-talker sketches (sources and targets each).</summary>
    public int SketchCapacity { get; init; } = 512;

    /// <summary>Top talkers sent to the page.</summary>
    public int TopN { get; init; } = 10;

    /// <summary>Alerts waiting for one page between two pushes; the oldest beyond it are sampled out (counted).</summary>
    public int SubscriberBuffer { get; init; } = 256;

    /// <summary>Checks every bound; the message names the one that is wrong.</summary>
    public DashboardLimits Validate()
    {
        Check(RecentAlerts, 1, 1_000_000, nameof(RecentAlerts));
        Check(Buckets, 2, 100_000, nameof(Buckets));
        Check(MaxClasses, 2, 256, nameof(MaxClasses));
        Check(SketchCapacity, 1, 1_000_000, nameof(SketchCapacity));
        Check(TopN, 1, SketchCapacity, nameof(TopN));
        Check(SubscriberBuffer, 1, 1_000_000, nameof(SubscriberBuffer));
        if (BucketWidth < TimeSpan.FromMilliseconds(1))
        {
            throw new ArgumentException($"dashboard {nameof(BucketWidth)} must be at least 1 ms; got {BucketWidth}.");
        }

        return this;
    }

    private static void Check(int value, int min, int max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentException($"dashboard {name} must be in [{min}, {max}]; got {value}.");
        }
    }
}

/// <summary>The pipeline's totals at one moment, as the dashboard samples them.</summary>
/// <param name="At">When sampled.</param>
/// <param name="FlowsIn">Flows that came in.</param>
/// <param name="FlowsScored">Flows scored.</param>
/// <param name="FlowsRejected">Rows rejected.</param>
/// <param name="FlowsDropped">Flows dropped.</param>
/// <param name="AlertFlows">Flows that alerted.</param>
/// <param name="AlertsEmitted">Alert events emitted.</param>
public sealed record CounterSample(DateTimeOffset At, long FlowsIn, long FlowsScored, long FlowsRejected, long FlowsDropped, long AlertFlows, long AlertsEmitted);

/// <summary>One point of the flows/s chart.</summary>
/// <param name="AtMs">Unix milliseconds.</param>
/// <param name="FlowsPerSecond">Flows in per second since the previous sample.</param>
/// <param name="DroppedPerSecond">Flows dropped per second.</param>
/// <param name="RejectedPerSecond">Rows rejected per second.</param>
public sealed record RatePoint(long AtMs, double FlowsPerSecond, double DroppedPerSecond, double RejectedPerSecond);

/// <summary>Everything the page's charts need, at one moment (a few kilobytes whatever the traffic).</summary>
public sealed record DashboardStats
{
    /// <summary>"live" or "stored".</summary>
    public required string Mode { get; init; }

    /// <summary>What the time axis of the alerts chart measures.</summary>
    public required string TimeAxis { get; init; }

    /// <summary>Unix milliseconds of the snapshot.</summary>
    public required long NowMs { get; init; }

    /// <summary>Alerting flows per bucket and class.</summary>
    public required SeriesView AlertsOverTime { get; init; }

    /// <summary>Flows/s, drops/s, rejects/s.</summary>
    public required IReadOnlyList<RatePoint> Rates { get; init; }

    /// <summary>The latest totals, or null before the first sample.</summary>
    public CounterSample? Totals { get; init; }

    /// <summary>Alerts the dashboard has seen (each counted once, whatever its flow count).</summary>
    public required long AlertsSeen { get; init; }

    /// <summary>Alerting flows the dashboard has seen (sum of counts).</summary>
    public required long AlertFlowsSeen { get; init; }

    /// <summary>Top sources of alerting flows.</summary>
    public required IReadOnlyList<TopCount> TopSources { get; init; }

    /// <summary>Top targets (address:port) of alerting flows.</summary>
    public required IReadOnlyList<TopCount> TopTargets { get; init; }

    /// <summary>Class → colour for every class shown, from the one table.</summary>
    public required IReadOnlyDictionary<string, string> Colors { get; init; }

    /// <summary>Alerts not pushed to pages because they came faster than a page takes them (all pages, all time).</summary>
    public required long SampledOut { get; init; }
}

/// <summary>
/// The dashboard's memory: per-bucket counts by class, top-N talkers in bounded sketches, a ring of recent alerts and a
/// ring of flows/s samples. Everything is bounded by <see cref="DashboardLimits"/>, whatever the traffic behind it. Pages
/// subscribe to new alerts through bounded buffers that drop (and count) the oldest when a page falls behind. Thread-safe.
/// </summary>
public sealed class DashboardState
{
    private readonly Lock _gate = new();
    private readonly DashboardLimits _limits;
    private readonly TimeProvider _time;
    private readonly ClassTimeSeries _series;
    private readonly SpaceSaving _sources;
    private readonly SpaceSaving _targets;
    private readonly DashboardAlert?[] _recent;
    private readonly RatePoint?[] _rates;
    private readonly List<AlertSubscription> _subscribers = [];
    private readonly Dictionary<string, string> _colors = new(StringComparer.Ordinal);
    private long _nextId = 1;
    private long _alertFlows;
    private int _rateCount;
    private CounterSample? _last;
    private long _sampledOut;

    /// <summary>A state for a live monitor (<paramref name="mode"/> "live") or a stored run ("stored").</summary>
    public DashboardState(DashboardLimits limits, TimeProvider time, string mode = "live", string timeAxis = "time emitted (UTC)")
    {
        _limits = (limits ?? throw new ArgumentNullException(nameof(limits))).Validate();
        _time = time ?? throw new ArgumentNullException(nameof(time));
        Mode = mode;
        TimeAxis = timeAxis;
        _series = new ClassTimeSeries(limits.Buckets, limits.BucketWidth, limits.MaxClasses);
        _sources = new SpaceSaving(limits.SketchCapacity);
        _targets = new SpaceSaving(limits.SketchCapacity);
        _recent = new DashboardAlert?[limits.RecentAlerts];
        _rates = new RatePoint?[limits.Buckets];
    }

    /// <summary>"live" or "stored".</summary>
    public string Mode { get; }

    /// <summary>What the alerts chart's time axis measures.</summary>
    public string TimeAxis { get; }

    /// <summary>The limits in force.</summary>
    public DashboardLimits Limits => _limits;

    /// <summary>Alerts added so far.</summary>
    public long AlertsSeen
    {
        get
        {
            lock (_gate)
            {
                return _nextId - 1;
            }
        }
    }

    /// <summary>Pages subscribed right now.</summary>
    public int Subscribers
    {
        get
        {
            lock (_gate)
            {
                return _subscribers.Count;
            }
        }
    }

    /// <summary>
    /// Takes in one alert, counted at <paramref name="bucketTime"/> (default: its emission time), and returns it with its
    /// id and colour.
    /// </summary>
    public DashboardAlert Add(DashboardAlert alert, DateTimeOffset? bucketTime = null)
    {
        ArgumentNullException.ThrowIfNull(alert);
        long count = Math.Max(1, alert.Count);
        AlertSubscription[] subscribers;
        DashboardAlert stored;
        lock (_gate)
        {
            stored = alert with { Id = _nextId, Color = ColorOf(alert.Signature) };
            _recent[(_nextId - 1) % _recent.Length] = stored;
            _nextId++;
            _alertFlows += count;
            _series.Add(bucketTime ?? alert.Timestamp, alert.Signature, count);
            _sources.Add(stored.SourceKey, count);
            _targets.Add(stored.TargetKey, count);
            subscribers = _subscribers.Count == 0 ? [] : [.. _subscribers];
        }

        foreach (var s in subscribers)
        {
            s.Offer(stored);
        }

        return stored;
    }

    /// <summary>Records the pipeline's totals; successive samples give the flows/s, drops/s and rejects/s points.</summary>
    public void Record(CounterSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        lock (_gate)
        {
            if (_last is not null && sample.At > _last.At)
            {
                double seconds = (sample.At - _last.At).TotalSeconds;
                var point = new RatePoint(
                    sample.At.ToUnixTimeMilliseconds(),
                    Math.Max(0, sample.FlowsIn - _last.FlowsIn) / seconds,
                    Math.Max(0, sample.FlowsDropped - _last.FlowsDropped) / seconds,
                    Math.Max(0, sample.FlowsRejected - _last.FlowsRejected) / seconds);
                _rates[_rateCount % _rates.Length] = point;
                _rateCount++;
            }

            if (_last is null || sample.At >= _last.At)
            {
                _last = sample;
            }
        }
    }

    /// <summary>The charts' data now.</summary>
    public DashboardStats Stats()
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (Mode == "live")
            {
                _series.AdvanceTo(now);
            }

            var view = _series.View();
            int n = Math.Min(_rateCount, _rates.Length);
            var rates = new RatePoint[n];
            for (int i = 0; i < n; i++)
            {
                rates[i] = _rates[(_rateCount - n + i) % _rates.Length]!;
            }

            return new DashboardStats
            {
                Mode = Mode,
                TimeAxis = TimeAxis,
                NowMs = now.ToUnixTimeMilliseconds(),
                AlertsOverTime = view,
                Rates = rates,
                Totals = _last,
                AlertsSeen = _nextId - 1,
                AlertFlowsSeen = _alertFlows,
                TopSources = _sources.Top(_limits.TopN),
                TopTargets = _targets.Top(_limits.TopN),
                Colors = new Dictionary<string, string>(_colors, StringComparer.Ordinal) { [ClassTimeSeries.OtherClass] = ClassPalette.Unknown },
                SampledOut = _sampledOut,
            };
        }
    }

    /// <summary>The newest alerts that pass <paramref name="filter"/>, newest first, at most <paramref name="max"/>.</summary>
    public IReadOnlyList<DashboardAlert> Recent(AlertFilter filter, int max)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var result = new List<DashboardAlert>(Math.Min(max, 256));
        lock (_gate)
        {
            long oldest = Math.Max(1, _nextId - _recent.Length);
            for (long id = _nextId - 1; id >= oldest && result.Count < max; id--)
            {
                var a = _recent[(id - 1) % _recent.Length]!;
                if (filter.Matches(a))
                {
                    result.Add(a);
                }
            }
        }

        return result;
    }

    /// <summary>The alert with <paramref name="id"/>, or null when it has left the ring of recent alerts (or never was).</summary>
    public DashboardAlert? Find(long id)
    {
        lock (_gate)
        {
            if (id < 1 || id >= _nextId || id < _nextId - _recent.Length)
            {
                return null;
            }

            return _recent[(id - 1) % _recent.Length];
        }
    }

    /// <summary>Classes seen so far (for the page's class filter), with their colours.</summary>
    public IReadOnlyDictionary<string, string> Colors
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, string>(_colors, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>Declares the classes a model can alert on, so the filter and legend list them before the first alert.</summary>
    public void DeclareClasses(IEnumerable<string> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        lock (_gate)
        {
            foreach (var c in classes.Take(_limits.MaxClasses))
            {
                ColorOfLocked(c);
            }
        }
    }

    /// <summary>Subscribes a page to new alerts passing <paramref name="filter"/>. Dispose to leave.</summary>
    public AlertSubscription Subscribe(AlertFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var s = new AlertSubscription(this, filter, _limits.SubscriberBuffer);
        lock (_gate)
        {
            _subscribers.Add(s);
        }

        return s;
    }

    internal void Unsubscribe(AlertSubscription s)
    {
        lock (_gate)
        {
            _subscribers.Remove(s);
        }
    }

    internal void CountSampledOut(long n) => Interlocked.Add(ref _sampledOut, n);

    private string ColorOf(string signature) => ColorOfLocked(signature);

    private string ColorOfLocked(string signature)
    {
        if (_colors.TryGetValue(signature, out var color))
        {
            return color;
        }

        if (_colors.Count >= _limits.MaxClasses)
        {
            // The table of shown classes is bounded like the series: a flood of made-up labels cannot grow it.
            return ClassPalette.ColorOf(signature);
        }

        _colors[signature] = ClassPalette.ColorOf(signature);
        // Shades depend on which classes of a family share the view: reassign the whole (small) table.
        foreach (var (k, v) in ClassPalette.Assign(_colors.Keys))
        {
            _colors[k] = v;
        }

        return _colors[signature];
    }
}

/// <summary>
/// One page's feed of new alerts: a bounded buffer that keeps the newest when the page falls behind, counting what it lost.
/// </summary>
public sealed class AlertSubscription : IDisposable
{
    private readonly DashboardState _state;
    private readonly Channel<DashboardAlert> _channel;
    private long _lost;

    internal AlertSubscription(DashboardState state, AlertFilter filter, int capacity)
    {
        _state = state;
        Filter = filter;
        _channel = Channel.CreateBounded<DashboardAlert>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _lost));
    }

    /// <summary>What this page sees.</summary>
    public AlertFilter Filter { get; }

    /// <summary>Alerts this page lost because its buffer was full.</summary>
    public long Lost => Volatile.Read(ref _lost);

    /// <summary>
    /// Takes what has arrived since the last call: at most <paramref name="max"/> alerts, the newest, oldest first; the
    /// rest are counted as sampled out and returned in <c>skipped</c>.
    /// </summary>
    public (IReadOnlyList<DashboardAlert> Alerts, long Skipped) Take(int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var all = new List<DashboardAlert>();
        while (_channel.Reader.TryRead(out var a))
        {
            all.Add(a);
        }

        long lost = Interlocked.Exchange(ref _lost, 0);
        long skipped = lost + Math.Max(0, all.Count - max);
        if (skipped > 0)
        {
            _state.CountSampledOut(skipped);
        }

        return (all.Count <= max ? all : all.GetRange(all.Count - max, max), skipped);
    }

    /// <summary>Waits until at least one alert is waiting (or the token fires).</summary>
    public ValueTask<bool> WaitAsync(CancellationToken cancellationToken) => _channel.Reader.WaitToReadAsync(cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        _state.Unsubscribe(this);
        _channel.Writer.TryComplete();
    }

    internal void Offer(DashboardAlert alert)
    {
        if (Filter.Matches(alert))
        {
            _channel.Writer.TryWrite(alert);
        }
    }
}
