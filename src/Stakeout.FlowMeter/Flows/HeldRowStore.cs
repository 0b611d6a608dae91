using Stakeout.Core;

namespace Stakeout.FlowMeter.Flows;

/// <summary>
/// The rows of flows that ended by timeout in V4 order, each held until CICFlowMeter-V4 would write it (at the
/// conversation's next packet, or at the end of the capture in its map order). Rows live in slots of a few large
/// arrays that are reused as rows are written, so holding a hundred thousand rows costs no object per row: a row of
/// its own (78 doubles) for each held flow was 5 % of `stakeout flows`' flow-table thread in allocation, zeroing and
/// page faults (docs/benchmarks.md). A slot number is the row's handle; <see cref="None"/> is no row.
/// </summary>
internal sealed class HeldRowStore
{
    /// <summary>No row.</summary>
    public const int None = -1;

    private const int RowsPerChunk = 1024;
    private readonly List<double[]> _features = [];
    private readonly List<Entry[]> _entries = [];
    private readonly Stack<int> _free = new();
    private int _slots;

    /// <summary>Rows held now.</summary>
    public int Count => _slots - _free.Count;

    /// <summary>Keeps a row; returns its slot.</summary>
    public int Add(in FlowIdentity identity, long startMicros, long packets, ReadOnlySpan<double> features)
    {
        if (features.Length != FeatureSchema.Count)
        {
            throw new ArgumentException($"a row has {FeatureSchema.Count} features, got {features.Length}", nameof(features));
        }

        if (!_free.TryPop(out int slot))
        {
            slot = _slots++;
            if (slot / RowsPerChunk == _entries.Count)
            {
                _entries.Add(new Entry[RowsPerChunk]);
                _features.Add(new double[RowsPerChunk * FeatureSchema.Count]);
            }
        }

        _entries[slot / RowsPerChunk][slot % RowsPerChunk] = new Entry(identity, startMicros, packets);
        features.CopyTo(Features(slot));
        return slot;
    }

    /// <summary>The row in <paramref name="slot"/>, valid until <see cref="Release"/>.</summary>
    public CompletedFlow Get(int slot, FlowEndReason reason)
    {
        ref readonly var e = ref _entries[slot / RowsPerChunk][slot % RowsPerChunk];
        return new CompletedFlow(e.Identity, e.StartMicros, e.Packets, reason, Features(slot));
    }

    /// <summary>Frees <paramref name="slot"/> for the next row.</summary>
    public void Release(int slot) => _free.Push(slot);

    private Span<double> Features(int slot)
        => _features[slot / RowsPerChunk].AsSpan(slot % RowsPerChunk * FeatureSchema.Count, FeatureSchema.Count);

    private readonly record struct Entry(FlowIdentity Identity, long StartMicros, long Packets);
}
