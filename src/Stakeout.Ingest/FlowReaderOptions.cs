using Stakeout.Core;

namespace Stakeout.Ingest;

/// <summary>What to do with a feature value that is not a finite number (Infinity, -Infinity, NaN, an empty cell).</summary>
public enum NonFinitePolicy
{
    /// <summary>Keep the value as parsed: ±Infinity stays infinite, NaN and empty cells are NaN. Nothing is lost. The default.</summary>
    Keep,
    /// <summary>Turn every non-finite value into NaN (missing), which tree models treat as "unknown".</summary>
    Missing,
    /// <summary>Replace every non-finite value by 0, as many published pipelines do.</summary>
    Zero,
    /// <summary>Drop the whole row; counted under <see cref="DropReason.NonFinite"/>.</summary>
    Drop,
}

/// <summary>Whether exact duplicate rows (same 78 feature values and the same label) are looked for, and dropped.</summary>
public enum DuplicatePolicy
{
    /// <summary>Do not look for duplicates (fastest).</summary>
    Ignore,
    /// <summary>Count duplicates across all files read, keep them.</summary>
    Count,
    /// <summary>Drop every repeat after the first, across all files read; counted under <see cref="DropReason.Duplicate"/>.</summary>
    Drop,
}

/// <summary>
/// Options of <see cref="FlowCsvReader"/>, validated once by <see cref="Validate"/>. Defaults keep every row that parses,
/// exactly as written.
/// </summary>
public sealed record FlowReaderOptions
{
    /// <summary>Policy for Infinity, NaN and empty feature cells. Default <see cref="NonFinitePolicy.Keep"/>.</summary>
    public NonFinitePolicy NonFinite { get; init; } = NonFinitePolicy.Keep;

    /// <summary>Duplicate handling. Default <see cref="DuplicatePolicy.Ignore"/>.</summary>
    public DuplicatePolicy Duplicates { get; init; } = DuplicatePolicy.Ignore;

    /// <summary>Stop at the first rejected row with a <see cref="FlowDataException"/> instead of counting it and going on.</summary>
    public bool Strict { get; init; }

    /// <summary>
    /// When a file cannot be read at all (not a flow CSV, wrong delimiter, missing required features), record the error in
    /// its <see cref="FileReport"/> and go on with the next file instead of throwing.
    /// </summary>
    public bool SkipBadFiles { get; init; }

    /// <summary>
    /// Parse the identity columns (Flow ID, addresses, ports, protocol, timestamp) into <see cref="FlowBatch.Identities"/>
    /// and <see cref="FlowBatch.FlowIds"/>. Default true. A consumer that needs only features and labels (training) sets
    /// it false: batches then carry no identity, which saves about 190 bytes a row (half a gigabyte over the full
    /// CIC-IDS2017 with IPs) and the time to parse it; the identity columns are then neither parsed nor checked, so a
    /// malformed address or timestamp no longer rejects its row.
    /// </summary>
    public bool ReadIdentity { get; init; } = true;

    /// <summary>Every file must have a label column.</summary>
    public bool RequireLabel { get; init; }

    /// <summary>Features every file must have, by index (see <see cref="FeatureSchema"/>).</summary>
    public IReadOnlyCollection<int> RequiredFeatures { get; init; } = [];

    /// <summary>How many rejected rows are kept with full detail (all are counted by reason). Default 1000.</summary>
    public int MaxRejectDetails { get; init; } = 1000;

    /// <summary>A line longer than this is rejected (and skipped) rather than buffered. Default 1 MiB.</summary>
    public int MaxLineBytes { get; init; } = 1 << 20;

    /// <summary>Bytes per parse chunk (each chunk becomes one batch). Default 4 MiB.</summary>
    public int ChunkBytes { get; init; } = 4 << 20;

    /// <summary>Chunks parsed at once; 0 means one per processor.</summary>
    public int Parallelism { get; init; }

    /// <summary>
    /// CIC-IDS2017 timestamps use a 12-hour clock without AM/PM. Its captures ran from 08:00 to 18:00, so an hour from 1
    /// to 7 is read as afternoon. Set false to keep the hour as written.
    /// </summary>
    public bool InferCicAfternoonHours { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public FlowReaderOptions Validate()
    {
        if (MaxRejectDetails < 0)
        {
            throw new ArgumentException($"MaxRejectDetails must be 0 or more; it was {MaxRejectDetails}.", nameof(MaxRejectDetails));
        }

        if (MaxLineBytes < 1024)
        {
            throw new ArgumentException($"MaxLineBytes must be at least 1024; it was {MaxLineBytes}.", nameof(MaxLineBytes));
        }

        if (ChunkBytes < 2 * MaxLineBytes && ChunkBytes < 64 * 1024)
        {
            throw new ArgumentException($"ChunkBytes must be at least 64 KiB; it was {ChunkBytes}.", nameof(ChunkBytes));
        }

        if (Parallelism < 0 || Parallelism > 256)
        {
            throw new ArgumentException($"Parallelism must be between 0 and 256; it was {Parallelism}.", nameof(Parallelism));
        }

        foreach (int f in RequiredFeatures)
        {
            if (f < 0 || f >= FeatureSchema.Count)
            {
                throw new ArgumentException($"RequiredFeatures holds {f}, which is not a feature index (0..{FeatureSchema.Count - 1}).", nameof(RequiredFeatures));
            }
        }

        if (!Enum.IsDefined(NonFinite))
        {
            throw new ArgumentException($"NonFinite is not a known policy: {NonFinite}.", nameof(NonFinite));
        }

        if (!Enum.IsDefined(Duplicates))
        {
            throw new ArgumentException($"Duplicates is not a known policy: {Duplicates}.", nameof(Duplicates));
        }

        return this;
    }

    internal int EffectiveParallelism => Parallelism == 0 ? Environment.ProcessorCount : Parallelism;
}
