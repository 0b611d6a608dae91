using System.Text;

namespace Stakeout.Detection.Tests;

/// <summary>
/// Issue 23, finding 3: once told to stop, a run ends within its shutdown bound whatever a source or a sink does, and
/// says what it could not flush. (Each test would hang before the fix; the xunit timeout turns a hang into a failure.)
/// </summary>
public sealed class ShutdownTests
{
    private static readonly string Rows = Csv.Lines(Csv.Header(), Csv.Row(1, 5), Csv.Row(2, 150), Csv.Row(3, 2000));

    [Fact(Timeout = 60_000)]
    public async Task RunAsync_SourceIgnoresStop_AbandonedAndWhatItSentIsScored()
    {
        var sink = new CollectingSink();
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(o => o with { ShutdownTimeout = TimeSpan.FromMilliseconds(400) }), sink);
        var source = new StubbornSource("stubborn", Rows);
        using var stop = new CancellationTokenSource();

        var run = pipeline.RunAsync([source], stop.Token);
        await source.Sent.Task;
        await stop.CancelAsync();
        await run;

        var report = pipeline.Shutdown;
        Assert.True(report.Stopped);
        Assert.False(report.Complete);
        Assert.Equal(["stubborn"], report.AbandonedSources);
        Assert.Equal(3, pipeline.Counters.FlowsScored);
        Assert.Equal(["DDoS", "PortScan"], sink.Alerts.Select(a => a.Signature).Order());
        Pipelines.AssertBalanced(pipeline);
        source.Release();
    }

    [Fact(Timeout = 60_000)]
    public async Task StreamFlowSource_ReadThatIgnoresCancellation_EndsOnStopWithEveryRowScored()
    {
        // Like stdin fed by a producer that keeps the pipe open: the read blocks and does not honour its token.
        var input = new OpenPipeStream(Encoding.UTF8.GetBytes(Rows));
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(), new CollectingSink());
        using var stop = new CancellationTokenSource();

        var run = pipeline.RunAsync([new StreamFlowSource("stdin", () => input)], stop.Token);
        await input.Drained.Task;
        while (pipeline.Counters.FlowsScored < 3)
        {
            await Task.Delay(10);
        }

        await stop.CancelAsync();
        await run;

        Assert.True(pipeline.Shutdown.Complete);
        Assert.Empty(pipeline.Shutdown.AbandonedSources);
        Assert.Equal(3, pipeline.Counters.FlowsScored);
        Pipelines.AssertBalanced(pipeline);
        input.Close();
    }

    [Fact(Timeout = 60_000)]
    public async Task RunAsync_SourceEndsInsideTheCancellingCall_TheRunStillCountsAsStopped()
    {
        // A stdin source under load: its wait is cancelled, and its ending (then the pipeline's drain) ran on the thread
        // that cancelled, before that thread reached the callback that notes the stop. The summary then said "not
        // stopped" for a signalled run (MonitorShutdownTests, 2 runs in 23 on a busy machine). Here the cancelling
        // thread is held inside the source's callback until the sinks are closed and the report is being written.
        var sink = new ClosingSink();
        var source = new EndsInsideCancellationSource(sink.Closed.Task);
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(), sink);
        using var stop = new CancellationTokenSource();

        var run = pipeline.RunAsync([source], stop.Token);
        await source.Started.Task;
        await Task.Run(stop.Cancel);
        await run;

        Assert.True(source.HeldUntilSinksClosed, "the sinks were not closed while the cancelling thread was held");
        Assert.True(pipeline.Shutdown.Stopped, "a signalled run reported as not stopped");
        Assert.True(pipeline.Shutdown.Signal);
        Assert.True(pipeline.Shutdown.Complete);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunAsync_SinkThatNeverCloses_NamedAsNotClosed()
    {
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(o => o with { ShutdownTimeout = TimeSpan.FromMilliseconds(300) }), new HangingSink());
        using var stop = new CancellationTokenSource();

        var run = pipeline.RunAsync([new StubbornSource("s", Rows, stubborn: false)], stop.Token);
        while (pipeline.Counters.FlowsScored < 3)
        {
            await Task.Delay(10);
        }

        await stop.CancelAsync();
        await run;

        Assert.False(pipeline.Shutdown.Complete);
        Assert.Equal(["hanging"], pipeline.Shutdown.SinksNotClosed);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunAsync_FlowLimitWithSlowSink_DrainsFullyPastTheBound()
    {
        // A natural end (--max-flows) is not a signal: a sink slower than the bound still gets every alert. Before the
        // fix the bound started at the limit and the monitor exited with alerts unwritten.
        var sink = new SlowSink(TimeSpan.FromMilliseconds(400));
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(o => o with { ShutdownTimeout = TimeSpan.FromMilliseconds(100), MaxFlows = 3 }), sink);

        await pipeline.RunAsync([new StubbornSource("s", Rows, stubborn: false)]);

        var report = pipeline.Shutdown;
        Assert.True(report.Stopped);
        Assert.False(report.Signal);
        Assert.True(report.Complete, $"not complete: {report.AlertsNotWritten} alert(s) unwritten, sinks not closed: {string.Join(", ", report.SinksNotClosed)}");
        Assert.Equal(["DDoS", "PortScan"], sink.Alerts.Select(a => a.Signature).Order());
        Pipelines.AssertBalanced(pipeline);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunAsync_EndToken_DrainsFullyPastTheBound()
    {
        // --duration ends a run through `end`: every alert is written however long the sink takes.
        var sink = new SlowSink(TimeSpan.FromMilliseconds(400));
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(o => o with { ShutdownTimeout = TimeSpan.FromMilliseconds(100) }), sink);
        using var end = new CancellationTokenSource();

        var run = pipeline.RunAsync([new StubbornSource("s", Rows, stubborn: false)], CancellationToken.None, end.Token);
        while (pipeline.Counters.FlowsScored < 3)
        {
            await Task.Delay(10);
        }

        await end.CancelAsync();
        await run;

        Assert.True(pipeline.Shutdown.Complete);
        Assert.False(pipeline.Shutdown.Signal);
        Assert.Equal(2, sink.Alerts.Count);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunAsync_SignalDuringNaturalDrain_StartsTheBound()
    {
        // The flow limit starts a full drain; a sink that never closes would hold it forever, and Ctrl-C must still end it.
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(o => o with { ShutdownTimeout = TimeSpan.FromMilliseconds(300), MaxFlows = 3 }), new HangingSink());
        using var stop = new CancellationTokenSource();

        var run = pipeline.RunAsync([new StubbornSource("s", Rows, stubborn: false)], stop.Token);
        while (pipeline.Counters.FlowsScored < 3)
        {
            await Task.Delay(10);
        }

        await Task.Delay(200);
        Assert.False(run.IsCompleted);
        await stop.CancelAsync();
        await run;

        Assert.True(pipeline.Shutdown.Signal);
        Assert.False(pipeline.Shutdown.Complete);
        Assert.Equal(["hanging"], pipeline.Shutdown.SinksNotClosed);
    }

    [Fact]
    public async Task RunAsync_SourcesEndByThemselves_ReportNotStopped()
    {
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(), new CollectingSink());

        await pipeline.RunAsync([PiecesSource.FromText("s", Rows)]);

        Assert.False(pipeline.Shutdown.Stopped);
        Assert.True(pipeline.Shutdown.Complete);
    }

    [Fact]
    public void Validate_ZeroShutdownTimeout_NamesTheOption()
    {
        var ex = Assert.Throws<ArgumentException>(() => new DetectionOptions { ShutdownTimeout = TimeSpan.Zero }.Validate());

        Assert.Contains("ShutdownTimeout", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Writes its rows, then (if stubborn) waits without looking at Stopping, as a blocked read would.</summary>
    // Ends from inside its Stopping callback (so its caller's continuations run on the cancelling thread), then holds
    // that thread until the run has closed its sinks, and a little longer (the report is written right after).
    private sealed class EndsInsideCancellationSource(Task sinksClosed) : IFlowSource
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool HeldUntilSinksClosed { get; private set; }

        public string Name => "inline";

        public Task RunAsync(FlowSourceContext context)
        {
            var ended = new TaskCompletionSource();
            context.Stopping.Register(() =>
            {
                ended.SetResult();
                HeldUntilSinksClosed = sinksClosed.Wait(TimeSpan.FromSeconds(10));
                Thread.Sleep(300);
            });
            Started.SetResult();
            return ended.Task;
        }
    }

    private sealed class ClosingSink : IAlertSink
    {
        public TaskCompletionSource Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name => "closing";

        public ValueTask WriteAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync()
        {
            Closed.TrySetResult();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class StubbornSource(string name, string text, bool stubborn = true) : IFlowSource
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Sent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name => name;

        public void Release() => _release.TrySetResult();

        public async Task RunAsync(FlowSourceContext context)
        {
            var feed = context.OpenTextStream(name);
            await feed.WriteAsync(Encoding.UTF8.GetBytes(text));
            Sent.TrySetResult();
            if (stubborn)
            {
                await _release.Task;
            }
            else
            {
                await Task.Delay(Timeout.Infinite, context.Stopping).ContinueWith(_ => { }, TaskScheduler.Default);
            }

            await feed.CompleteAsync();
        }
    }

    /// <summary>A pipe whose writer stays open: bytes first, then reads that block and ignore their token.</summary>
    private sealed class OpenPipeStream(byte[] data) : Stream
    {
        private readonly TaskCompletionSource<int> _never = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _position;

        public TaskCompletionSource Drained { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position < data.Length)
            {
                int n = Math.Min(buffer.Length, data.Length - _position);
                data.AsSpan(_position, n).CopyTo(buffer.Span);
                _position += n;
                return ValueTask.FromResult(n);
            }

            Drained.TrySetResult();
            return new ValueTask<int>(_never.Task);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            _never.TrySetResult(0);
            base.Dispose(disposing);
        }
    }

    /// <summary>A sink on a slow disk: every write takes <paramref name="delay"/>, whatever its token says.</summary>
    private sealed class SlowSink(TimeSpan delay) : IAlertSink
    {
        public List<Alert> Alerts { get; } = [];

        public string Name => "slow";

        public async ValueTask WriteAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
        {
            await Task.Delay(delay, CancellationToken.None);
            lock (Alerts)
            {
                Alerts.AddRange(alerts);
            }
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => new(Task.Delay(delay, CancellationToken.None));

        public ValueTask DisposeAsync() => new(Task.Delay(delay, CancellationToken.None));
    }

    private sealed class HangingSink : IAlertSink
    {
        public string Name => "hanging";

        public ValueTask WriteAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => new(Task.Delay(Timeout.Infinite));
    }
}
