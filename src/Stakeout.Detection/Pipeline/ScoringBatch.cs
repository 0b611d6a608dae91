using Stakeout.Core;

namespace Stakeout.Detection;

/// <summary>Up to <see cref="Capacity"/> flows from any streams, scored together; probabilities written beside them.</summary>
internal sealed class ScoringBatch
{
    private float[] _probabilities = [];
    private float[] _anomaly = [];

    public ScoringBatch(int capacity)
    {
        Flows = new FlowBatch(capacity, withIdentity: true);
        Streams = new string[capacity];
        Received = new long[capacity];
    }

    public FlowBatch Flows { get; }

    public string[] Streams { get; }

    public long[] Received { get; }

    public int Count => Flows.Count;

    public int Capacity => Flows.Capacity;

    /// <summary>The model that scored this batch (a reload between batches changes it for the next batch only).</summary>
    public ModelHandle? Model { get; private set; }

    public ReadOnlySpan<float> Probabilities => _probabilities;

    /// <summary>One anomaly score per flow (empty when the model has no anomaly model).</summary>
    public ReadOnlySpan<float> AnomalyScores => Model?.Anomaly is null ? [] : _anomaly.AsSpan(0, Count);

    public void Add(FlowBatch source, int row, string stream, long received)
    {
        int r = Flows.Count;
        source.Features.AsSpan(row * FeatureSchema.Count, FeatureSchema.Count).CopyTo(Flows.Features.AsSpan(r * FeatureSchema.Count));
        Flows.LabelIds[r] = source.LabelIds[row];
        Flows.Lines[r] = source.Lines[row];
        Flows.Identities![r] = source.Identities is null ? FlowIdentity.Empty : source.Identities[row];
        Flows.FlowIds![r] = source.FlowIds?[row];
        Streams[r] = stream;
        Received[r] = received;
        Flows.Count = r + 1;
    }

    public void Score(ModelHandle model)
    {
        int k = model.Scorer.Classes.Count;
        int needed = Count * k;
        if (_probabilities.Length < needed)
        {
            _probabilities = new float[needed];
        }

        model.Scorer.Score(Flows.Features.AsSpan(0, Count * FeatureSchema.Count), _probabilities.AsSpan(0, needed));
        if (model.Anomaly is { } anomaly)
        {
            if (_anomaly.Length < Count)
            {
                _anomaly = new float[Capacity];
            }

            anomaly.Score(Flows.Features.AsSpan(0, Count * FeatureSchema.Count), _anomaly.AsSpan(0, Count));
        }

        Model = model;
    }
}
