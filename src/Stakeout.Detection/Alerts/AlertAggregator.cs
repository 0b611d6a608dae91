using Stakeout.Core;

namespace Stakeout.Detection;

/// <summary>A flow over the threshold, as the policy stage hands it to the aggregator.</summary>
internal readonly record struct AlertCandidate(
    FlowIdentity Identity,
    string? SourceFlowId,
    float[] Row,
    int ClassIndex,
    double Score,
    DateTime EventTime,
    string Stream,
    long Line,
    long Received,
    ModelHandle Model,
    AlertReason Reason = AlertReason.Classifier,
    float AnomalyScore = float.NaN,
    int TopClass = -1,
    double TopProbability = double.NaN,
    int BatchRow = -1)
{
    /// <summary>What the alert is called: the class, or <see cref="AlertReasons.AnomalySignature"/> for an anomaly alone.</summary>
    public string Signature => Reason == AlertReason.Anomaly ? AlertReasons.AnomalySignature : Model.Scorer.Classes[ClassIndex];
}

/// <summary>
/// Folds repeated alerts of one class from one source address into one. The first flow of a (source, class) group is
/// alerted at once with <c>count</c> 1; later flows of the group within the window are held back and counted; when the
/// window closes they are emitted as one alert whose <c>count</c>, <c>first_seen</c> and <c>last_seen</c> cover them. So
/// the sum of <c>count</c> over all alerts equals the number of alerting flows. A window closes when the event time
/// (flow start) has moved past it, when it has been open that long on the pipeline's clock (monitor), or at the end.
/// Flows without a source address are never folded: there is no source to fold them by.
/// </summary>
internal sealed class AlertAggregator
{
    private readonly TimeSpan _window;
    private readonly int _maxGroups;
    private readonly bool _closeOnClock;
    private readonly TimeProvider _time;
    private readonly Dictionary<(IpAddressValue Source, string Class), Group> _open = [];
    private readonly Queue<Group> _order = new();
    private DateTime _watermark = DateTime.MinValue;

    public AlertAggregator(TimeSpan window, int maxGroups, bool closeOnClock, TimeProvider time)
    {
        _time = time;
        _window = window;
        _maxGroups = maxGroups;
        _closeOnClock = closeOnClock;
    }

    public int OpenGroups => _open.Count;

    /// <summary>
    /// Offers one alerting flow; <paramref name="emit"/> receives what must be alerted now (this flow and/or closed groups),
    /// with a flag that is true when the alert is for the flow just offered (not a group closed later).
    /// </summary>
    public void Offer(in AlertCandidate candidate, long nowTimestamp, Action<AlertCandidate, long, DateTime, DateTime, bool> emit)
    {
        if (_window == TimeSpan.Zero || !candidate.Identity.SourceIp.HasValue)
        {
            emit(candidate, 1, candidate.EventTime, candidate.EventTime, true);
            return;
        }

        if (candidate.EventTime > _watermark)
        {
            _watermark = candidate.EventTime;
        }

        CloseExpired(nowTimestamp, emit);
        string cls = candidate.Signature;
        var key = (candidate.Identity.SourceIp, cls);
        if (_open.TryGetValue(key, out var group))
        {
            group.Absorb(candidate);
            return;
        }

        if (_open.Count >= _maxGroups)
        {
            CloseOldest(emit);
        }

        group = new Group(key, candidate.EventTime, nowTimestamp);
        _open.Add(key, group);
        _order.Enqueue(group);
        emit(candidate, 1, candidate.EventTime, candidate.EventTime, true);
    }

    /// <summary>Closes groups whose window is over (on the event clock, and on the pipeline clock when enabled).</summary>
    public void CloseExpired(long nowTimestamp, Action<AlertCandidate, long, DateTime, DateTime, bool> emit)
    {
        while (_order.TryPeek(out var head))
        {
            if (head.Closed)
            {
                _order.Dequeue();
                continue;
            }

            bool eventOver = _watermark - head.Opened >= _window;
            bool clockOver = _closeOnClock && _time.GetElapsedTime(head.OpenedTimestamp, nowTimestamp) >= _window;
            if (!eventOver && !clockOver)
            {
                break;
            }

            _order.Dequeue();
            Close(head, emit);
        }
    }

    /// <summary>Closes every group (end of input, shutdown).</summary>
    public void Flush(Action<AlertCandidate, long, DateTime, DateTime, bool> emit)
    {
        while (_order.TryDequeue(out var group))
        {
            if (!group.Closed)
            {
                Close(group, emit);
            }
        }
    }

    private void CloseOldest(Action<AlertCandidate, long, DateTime, DateTime, bool> emit)
    {
        while (_order.TryDequeue(out var group))
        {
            if (!group.Closed)
            {
                Close(group, emit);
                return;
            }
        }
    }

    private void Close(Group group, Action<AlertCandidate, long, DateTime, DateTime, bool> emit)
    {
        group.Closed = true;
        _open.Remove(group.Key);
        if (group.Held > 0)
        {
            emit(group.Representative, group.Held, group.FirstHeld, group.LastHeld, false);
        }
    }

    private sealed class Group((IpAddressValue, string) key, DateTime opened, long openedTimestamp)
    {
        public (IpAddressValue Source, string Class) Key { get; } = key;

        public DateTime Opened { get; } = opened;

        public long OpenedTimestamp { get; } = openedTimestamp;

        public bool Closed { get; set; }

        public long Held { get; private set; }

        public DateTime FirstHeld { get; private set; }

        public DateTime LastHeld { get; private set; }

        public AlertCandidate Representative { get; private set; }

        public void Absorb(in AlertCandidate candidate)
        {
            if (Held == 0)
            {
                Representative = candidate;
                FirstHeld = candidate.EventTime;
                LastHeld = candidate.EventTime;
            }
            else
            {
                if (candidate.EventTime < FirstHeld)
                {
                    FirstHeld = candidate.EventTime;
                }

                if (candidate.EventTime > LastHeld)
                {
                    LastHeld = candidate.EventTime;
                }

                // The strongest flow stands for the group.
                if (candidate.Score > Representative.Score)
                {
                    Representative = candidate;
                }
            }

            Held++;
        }
    }
}
