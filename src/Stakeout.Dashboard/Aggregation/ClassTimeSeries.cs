namespace Stakeout.Dashboard;

/// <summary>
/// Alerting flows per time bucket and class over a sliding window of fixed length: a ring of <c>buckets</c> rows, one
/// column per class (at most <c>maxClasses</c>; later classes share the last column, "other"). Memory is fixed at
/// construction. Not thread-safe: the caller serialises.
/// </summary>
internal sealed class ClassTimeSeries
{
    /// <summary>The column shared by classes past the limit.</summary>
    public const string OtherClass = "other";

    private readonly long[][] _rows;
    private readonly long[] _bucketOf;
    private readonly List<string> _classes = [];
    private readonly Dictionary<string, int> _column = new(StringComparer.Ordinal);
    private readonly int _maxClasses;
    private long _latest = long.MinValue;

    public ClassTimeSeries(int buckets, TimeSpan bucketWidth, int maxClasses)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxClasses, 2);
        if (bucketWidth <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(bucketWidth), bucketWidth, "the bucket width must be positive.");
        }

        BucketWidth = bucketWidth;
        _maxClasses = maxClasses;
        _rows = new long[buckets][];
        _bucketOf = new long[buckets];
        for (int i = 0; i < buckets; i++)
        {
            _rows[i] = new long[maxClasses];
            _bucketOf[i] = long.MinValue;
        }
    }

    public TimeSpan BucketWidth { get; }

    public int Buckets => _rows.Length;

    public IReadOnlyList<string> Classes => _classes;

    /// <summary>Counts <paramref name="flows"/> of <paramref name="cls"/> at <paramref name="time"/>; times older than the window are ignored (returns false).</summary>
    public bool Add(DateTimeOffset time, string cls, long flows)
    {
        long bucket = BucketIndex(time);
        Advance(bucket);
        if (bucket <= _latest - _rows.Length)
        {
            return false;
        }

        int slot = Slot(bucket);
        if (_bucketOf[slot] != bucket)
        {
            Array.Clear(_rows[slot]);
            _bucketOf[slot] = bucket;
        }

        _rows[slot][ColumnOf(cls)] += flows;
        return true;
    }

    /// <summary>Moves the window's end to <paramref name="now"/> (so quiet seconds show as zeros).</summary>
    public void AdvanceTo(DateTimeOffset now) => Advance(BucketIndex(now));

    /// <summary>The window: start time of its first bucket, and counts[class][bucket] oldest first.</summary>
    public SeriesView View()
    {
        if (_latest == long.MinValue)
        {
            return new SeriesView(0, (long)BucketWidth.TotalMilliseconds, [], []);
        }

        long first = _latest - _rows.Length + 1;
        var counts = new long[_classes.Count][];
        for (int c = 0; c < _classes.Count; c++)
        {
            counts[c] = new long[_rows.Length];
        }

        for (long b = first; b <= _latest; b++)
        {
            int slot = Slot(b);
            if (_bucketOf[slot] != b)
            {
                continue;
            }

            for (int c = 0; c < _classes.Count; c++)
            {
                counts[c][b - first] = _rows[slot][c];
            }
        }

        long widthMs = (long)BucketWidth.TotalMilliseconds;
        return new SeriesView(first * widthMs, widthMs, [.. _classes], counts);
    }

    private long BucketIndex(DateTimeOffset time) => time.ToUnixTimeMilliseconds() / (long)BucketWidth.TotalMilliseconds;

    private int Slot(long bucket) => (int)(((bucket % _rows.Length) + _rows.Length) % _rows.Length);

    private void Advance(long bucket)
    {
        if (bucket > _latest)
        {
            _latest = bucket;
        }
    }

    private int ColumnOf(string cls)
    {
        if (_column.TryGetValue(cls, out int c))
        {
            return c;
        }

        if (_classes.Count < _maxClasses - 1)
        {
            _classes.Add(cls);
            return _column[cls] = _classes.Count - 1;
        }

        if (!_column.TryGetValue(OtherClass, out c))
        {
            _classes.Add(OtherClass);
            c = _column[OtherClass] = _classes.Count - 1;
        }

        // Classes past the limit are not remembered one by one: the map stays bounded too.
        return c;
    }
}

/// <summary>A time series window as sent to the page.</summary>
/// <param name="StartMs">Unix milliseconds of the first bucket.</param>
/// <param name="BucketMs">Bucket width in milliseconds.</param>
/// <param name="Classes">Column names.</param>
/// <param name="Counts">Counts[class][bucket], oldest bucket first.</param>
public sealed record SeriesView(long StartMs, long BucketMs, IReadOnlyList<string> Classes, IReadOnlyList<long[]> Counts);
