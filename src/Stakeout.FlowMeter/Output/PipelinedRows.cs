using System.Collections.Concurrent;
using Stakeout.Core;
using Stakeout.FlowMeter.Flows;

namespace Stakeout.FlowMeter.Output;

/// <summary>
/// The second stage of `stakeout flows`: the meter's thread copies each flow (identity, 78 features) into a batch,
/// and one writer thread formats the rows and writes them, so metering and CSV formatting run on two cores at once.
/// Batches are recycled through a bounded pool (at most <see cref="Depth"/> in flight), so memory stays flat and a slow
/// disk holds the meter back instead of filling memory. Rows keep the meter's order. Flows that did not end at the end
/// of the capture go to <c>held</c> when one is given (V4's GUI order, see <see cref="FlowOrder.CicFlowMeter"/>).
/// A failure on the writer thread is rethrown on the meter's thread at its next flow or at <see cref="Complete"/>.
/// </summary>
internal sealed class PipelinedRows : IFlowSink, IDisposable
{
    private const int BatchRows = 512;
    private const int Depth = 8;

    private readonly CicFlowCsvWriter _csv;
    private readonly CicFlowCsvWriter? _held;
    private readonly BlockingCollection<Batch> _full = new(Depth);
    private readonly BlockingCollection<Batch> _free = new(Depth);
    private readonly Thread _thread;
    private Batch _current;
    private Exception? _failure;
    private bool _completed;

    public PipelinedRows(CicFlowCsvWriter csv, CicFlowCsvWriter? held)
    {
        _csv = csv ?? throw new ArgumentNullException(nameof(csv));
        _held = held;
        for (int i = 0; i < Depth - 1; i++)
        {
            _free.Add(new Batch());
        }

        _current = new Batch();
        _thread = new Thread(Run) { IsBackground = true, Name = "stakeout-csv-writer" };
        _thread.Start();
    }

    public void OnFlow(in CompletedFlow flow)
    {
        if (flow.Reason == FlowEndReason.Interval)
        {
            return; // interim reports are not CSV rows
        }

        var b = _current;
        int i = b.Count++;
        b.Identities[i] = flow.Identity;
        b.Reasons[i] = flow.Reason;
        flow.Features.CopyTo(b.Features.AsSpan(i * FeatureSchema.Count, FeatureSchema.Count));
        if (b.Count == BatchRows)
        {
            Post();
        }
    }

    /// <summary>Hands over the last rows and waits until every row is written; rethrows a writer failure.</summary>
    public void Complete()
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        if (_current.Count > 0 && _failure is null)
        {
            _full.Add(_current);
        }

        _full.CompleteAdding();
        _thread.Join();
        if (_failure is not null)
        {
            throw new IOException($"writing the flow CSV failed: {_failure.Message}", _failure);
        }
    }

    public void Dispose()
    {
        if (!_completed)
        {
            // Abandoned (an exception on the meter's thread): stop the writer without waiting for rows nobody wants.
            _completed = true;
            _full.CompleteAdding();
            _free.CompleteAdding();
            _thread.Join();
        }

        _full.Dispose();
        _free.Dispose();
    }

    private void Post()
    {
        if (_failure is not null)
        {
            throw new IOException($"writing the flow CSV failed: {_failure.Message}", _failure);
        }

        _full.Add(_current);
        _current = _free.Take();
        _current.Count = 0;
    }

    private void Run()
    {
        try
        {
            foreach (var batch in _full.GetConsumingEnumerable())
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    var target = _held is not null && batch.Reasons[i] != FlowEndReason.EndOfCapture ? _held : _csv;
                    target.Write(batch.Identities[i], batch.Reasons[i], batch.Features.AsSpan(i * FeatureSchema.Count, FeatureSchema.Count));
                }

                if (!_free.IsAddingCompleted)
                {
                    _free.Add(batch);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException or InvalidOperationException)
        {
            // Reported on the meter's thread (Post, Complete); the pool is closed so the meter cannot wait for a batch.
            _failure = ex;
            _free.CompleteAdding();
        }
    }

    private sealed class Batch
    {
        public readonly FlowIdentity[] Identities = new FlowIdentity[BatchRows];
        public readonly FlowEndReason[] Reasons = new FlowEndReason[BatchRows];
        public readonly double[] Features = new double[BatchRows * FeatureSchema.Count];
        public int Count;
    }
}
