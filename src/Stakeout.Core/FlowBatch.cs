namespace Stakeout.Core;

/// <summary>
/// A batch of flows, row-major: row <c>r</c>'s features are <c>Features[(r * FeatureSchema.Count)..((r + 1) * FeatureSchema.Count)]</c>
/// in canonical order. Labels are ids into the reader's label vocabulary (-1 when the source has none). Identity is
/// present only when the source had identity columns. Arrays may be longer than <see cref="Count"/>; only the first
/// <see cref="Count"/> rows are valid.
/// </summary>
public sealed class FlowBatch
{
    /// <summary>Creates an empty batch with room for <paramref name="capacity"/> rows.</summary>
    public FlowBatch(int capacity, bool withIdentity)
    {
        Guard.Positive(capacity);
        Features = new float[capacity * FeatureSchema.Count];
        LabelIds = new int[capacity];
        Lines = new long[capacity];
        if (withIdentity)
        {
            Identities = new FlowIdentity[capacity];
            FlowIds = new string?[capacity];
        }
    }

    /// <summary>Rows in use.</summary>
    public int Count { get; set; }

    /// <summary>Rows this batch can hold.</summary>
    public int Capacity => LabelIds.Length;

    /// <summary>Index of the source (file) this batch came from, in the reader's list of sources.</summary>
    public int SourceIndex { get; set; }

    /// <summary>Row-major features, <see cref="FeatureSchema.Count"/> per row.</summary>
    public float[] Features { get; }

    /// <summary>Label id per row, or -1.</summary>
    public int[] LabelIds { get; }

    /// <summary>1-based line number in the source, per row, so any row can be traced back to its file and line.</summary>
    public long[] Lines { get; }

    /// <summary>Identity per row, or null when the source had no identity columns.</summary>
    public FlowIdentity[]? Identities { get; }

    /// <summary>The source's "Flow ID" text per row, when it had one.</summary>
    public string?[]? FlowIds { get; }

    /// <summary>
    /// Copies row <paramref name="from"/> (features, label, line, identity and Flow ID) over row <paramref name="to"/>: how
    /// a batch is compacted in place when rows are removed from it. Both must be below <see cref="Capacity"/>.
    /// </summary>
    public void MoveRow(int from, int to)
    {
        if ((uint)from >= (uint)Capacity || (uint)to >= (uint)Capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(from), $"rows {from} and {to} must be in [0, {Capacity}).");
        }

        Features.AsSpan(from * FeatureSchema.Count, FeatureSchema.Count).CopyTo(Features.AsSpan(to * FeatureSchema.Count, FeatureSchema.Count));
        LabelIds[to] = LabelIds[from];
        Lines[to] = Lines[from];
        if (Identities is not null)
        {
            Identities[to] = Identities[from];
            FlowIds![to] = FlowIds[from];
        }
    }

    /// <summary>The features of row <paramref name="row"/>.</summary>
    public Span<float> Row(int row)
    {
        if ((uint)row >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, $"row must be in [0, {Count}).");
        }

        return Features.AsSpan(row * FeatureSchema.Count, FeatureSchema.Count);
    }
}
