using System.Runtime.CompilerServices;

namespace Stakeout.FlowMeter.Flows;

/// <summary>
/// The flow table's index: open addressing with linear probing from <see cref="FlowKey"/> to its <see cref="FlowState"/>
/// (whose own <see cref="FlowState.Key"/> is the key), at most half full, deletion by backward shift (no tombstones, so
/// a table that churns through millions of short flows never slows down).
/// </summary>
/// <remarks>
/// It replaces a <c>Dictionary&lt;FlowKey, FlowState&gt;</c>, whose code for a struct key from this assembly is not in
/// the ReadyToRun image (it is a CoreLib generic), so every `stakeout flows` started it as unoptimised code and
/// compiled it again while the capture was being read; and its entries, with the key inline, took four cache lines for
/// every three flows against one slot of 16 bytes here. The hash is the key's own (keyed with secret words drawn per
/// process), so a crafted capture still cannot aim its flows at one run of slots.
/// </remarks>
internal sealed class FlowMap
{
    private const int MinCapacity = 1024;

    private Slot[] _slots = new Slot[MinCapacity];
    private int _mask = MinCapacity - 1;

    /// <summary>Flows indexed.</summary>
    public int Count { get; private set; }

    /// <summary>The flow of <paramref name="key"/>, or false.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryGetValue(in FlowKey key, out FlowState flow)
    {
        int i = Find(key);
        flow = i < 0 ? null! : _slots[i].Flow!;
        return i >= 0;
    }

    /// <summary>Indexes <paramref name="flow"/> under its key, replacing the flow held there, if any.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Set(FlowState flow)
    {
        if ((Count + 1) * 2 > _slots.Length)
        {
            Grow();
        }

        int hash = flow.Key.GetHashCode();
        int mask = _mask;
        for (int i = hash & mask; ; i = (i + 1) & mask)
        {
            ref Slot slot = ref _slots[i];
            if (slot.Flow is null)
            {
                slot = new Slot(flow, hash);
                Count++;
                return;
            }

            if (slot.Hash == hash && slot.Flow.Key.Equals(flow.Key))
            {
                slot = new Slot(flow, hash);
                return;
            }
        }
    }

    /// <summary>Removes the flow of <paramref name="key"/>; false when none is indexed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Remove(in FlowKey key)
    {
        int hole = Find(key);
        if (hole < 0)
        {
            return false;
        }

        var slots = _slots;
        int mask = _mask;

        // Backward shift: every entry after the hole that may live there (its home slot is not between the hole and
        // itself, cyclically) moves back into it, until an empty slot ends the run.
        for (int j = (hole + 1) & mask; slots[j].Flow is not null; j = (j + 1) & mask)
        {
            int home = slots[j].Hash & mask;
            bool stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
            if (!stays)
            {
                slots[hole] = slots[j];
                hole = j;
            }
        }

        slots[hole] = default;
        Count--;
        return true;
    }

    /// <summary>Every flow indexed, in slot order (callers that need an order sort them).</summary>
    public List<FlowState> Values()
    {
        var values = new List<FlowState>(Count);
        foreach (var slot in _slots)
        {
            if (slot.Flow is { } flow)
            {
                values.Add(flow);
            }
        }

        return values;
    }

    /// <summary>Forgets every flow (the table keeps its size).</summary>
    public void Clear()
    {
        Array.Clear(_slots);
        Count = 0;
    }

    /// <summary>The slot holding <paramref name="key"/>'s flow, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Find(in FlowKey key)
    {
        int hash = key.GetHashCode();
        var slots = _slots;
        int mask = _mask;
        for (int i = hash & mask; ; i = (i + 1) & mask)
        {
            ref Slot slot = ref slots[i];
            if (slot.Flow is not { } candidate)
            {
                return -1;
            }

            if (slot.Hash == hash && candidate.Key.Equals(key))
            {
                return i;
            }
        }
    }

    private void Grow()
    {
        var old = _slots;
        _slots = new Slot[old.Length * 2];
        _mask = _slots.Length - 1;
        foreach (var slot in old)
        {
            if (slot.Flow is null)
            {
                continue;
            }

            int i = slot.Hash & _mask;
            while (_slots[i].Flow is not null)
            {
                i = (i + 1) & _mask;
            }

            _slots[i] = slot;
        }
    }

    private readonly record struct Slot(FlowState? Flow, int Hash);
}
