using Stakeout.Core;
using Stakeout.FlowMeter.Flows;

namespace Stakeout.FlowMeter.Output;

/// <summary>
/// A sink that packs reported flows into <see cref="FlowBatch"/>es (features as floats, identity and flow id kept) and
/// hands each full batch to <paramref name="onBatch"/>. Call <see cref="Complete"/> to hand over the last partial batch.
/// </summary>
/// <param name="capacity">Rows per batch.</param>
/// <param name="onBatch">Receives each batch; it owns the batch from then on.</param>
/// <param name="includeInterval">Also collect interim reports of long flows.</param>
public sealed class FlowBatchCollector(int capacity, Action<FlowBatch> onBatch, bool includeInterval = true) : IFlowSink
{
    private readonly int _capacity = Guard.Positive(capacity);
    private readonly Action<FlowBatch> _onBatch = onBatch ?? throw new ArgumentNullException(nameof(onBatch));
    private FlowBatch? _current;

    /// <summary>Flows collected so far.</summary>
    public long Flows { get; private set; }

    /// <inheritdoc/>
    public void OnFlow(in CompletedFlow flow)
    {
        if (flow.Reason == FlowEndReason.Interval && !includeInterval)
        {
            return;
        }

        _current ??= new FlowBatch(_capacity, withIdentity: true);
        int row = _current.Count;
        var target = _current.Features.AsSpan(row * FeatureSchema.Count, FeatureSchema.Count);
        var source = flow.Features;
        for (int i = 0; i < FeatureSchema.Count; i++)
        {
            target[i] = (float)source[i];
        }

        _current.LabelIds[row] = -1;
        _current.Lines[row] = Flows + 1;
        _current.Identities![row] = flow.Identity;
        _current.FlowIds![row] = flow.FlowId;
        _current.Count = row + 1;
        Flows++;
        if (_current.Count == _capacity)
        {
            var full = _current;
            _current = null;
            _onBatch(full);
        }
    }

    /// <summary>Hands over the partial batch, if any.</summary>
    public void Complete()
    {
        if (_current is { Count: > 0 } last)
        {
            _current = null;
            _onBatch(last);
        }
    }
}
