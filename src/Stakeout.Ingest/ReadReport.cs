using System.Text.Json.Serialization;
using Stakeout.Core;

namespace Stakeout.Ingest;

/// <summary>
/// The accounting of a read: rows read = rows used + rows rejected + rows dropped, per file and in total, with every
/// reject's reason and location (the first <see cref="FlowReaderOptions.MaxRejectDetails"/> in full), drops by reason,
/// class counts and the quirks met on the way.
/// </summary>
public sealed class ReadReport
{
    internal ReadReport(LabelVocabulary labels) => Labels = labels;

    /// <summary>One entry per file (or archive entry), in read order.</summary>
    [JsonPropertyName("files")] public IReadOnlyList<FileReport> Files => FileList;

    /// <summary>Non-empty data lines read (empty lines are not rows; they are counted as the quirk "blank_lines").</summary>
    [JsonPropertyName("rows_read")] public long RowsRead { get; internal set; }

    /// <summary>Rows handed out.</summary>
    [JsonPropertyName("rows_used")] public long RowsUsed { get; internal set; }

    /// <summary>Rows that could not be read.</summary>
    [JsonPropertyName("rows_rejected")] public long RowsRejected { get; internal set; }

    /// <summary>Rows read and not used.</summary>
    [JsonPropertyName("rows_dropped")] public long RowsDropped { get; internal set; }

    /// <summary>Rejects by reason.</summary>
    [JsonPropertyName("rejected_by_reason")] public IReadOnlyDictionary<RejectReason, long> RejectedByReason => RejectCounts;

    /// <summary>Drops by reason.</summary>
    [JsonPropertyName("dropped_by_reason")] public IReadOnlyDictionary<DropReason, long> DroppedByReason => DropCounts;

    /// <summary>The first rejects, in full.</summary>
    [JsonPropertyName("rejects")] public IReadOnlyList<RejectedRow> Rejects => RejectList;

    /// <summary>Exact duplicate rows found (when duplicates are counted or dropped).</summary>
    [JsonPropertyName("duplicates")] public long Duplicates { get; internal set; }

    /// <summary>Rows used per label, by canonical label name.</summary>
    [JsonPropertyName("classes")] public IReadOnlyDictionary<string, long> Classes => ClassCounts;

    /// <summary>Quirks met, with how often: header spellings, encodings, special values, line endings.</summary>
    [JsonPropertyName("quirks")] public IReadOnlyDictionary<string, long> Quirks => QuirkCounts;

    /// <summary>The labels seen; a batch's label ids index into it.</summary>
    [JsonIgnore] public LabelVocabulary Labels { get; }

    /// <summary>True when every row read is accounted for.</summary>
    [JsonPropertyName("balanced")] public bool IsBalanced => RowsRead == RowsUsed + RowsRejected + RowsDropped;

    internal List<FileReport> FileList { get; } = [];

    internal SortedDictionary<RejectReason, long> RejectCounts { get; } = [];

    internal SortedDictionary<DropReason, long> DropCounts { get; } = [];

    internal List<RejectedRow> RejectList { get; } = [];

    internal SortedDictionary<string, long> ClassCounts { get; } = new(StringComparer.Ordinal);

    internal SortedDictionary<string, long> QuirkCounts { get; } = new(StringComparer.Ordinal);

    /// <summary>Rows used per label at a coarser level (family or binary).</summary>
    public IReadOnlyDictionary<string, long> ClassesAt(LabelLevel level)
    {
        var result = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, count) in ClassCounts)
        {
            var def = Labels.Get(name);
            string key = level <= def.Level ? def.Name : def.At(level);
            result[key] = result.GetValueOrDefault(key) + count;
        }

        return result;
    }

    internal void AddQuirk(string key, long count)
    {
        if (count != 0)
        {
            QuirkCounts[key] = QuirkCounts.GetValueOrDefault(key) + count;
        }
    }
}

/// <summary>The labels met during a read, each with a stable id (the order first seen). Thread-safe.</summary>
public sealed class LabelVocabulary
{
    private readonly Lock _gate = new();
    private readonly List<LabelDefinition> _byId = [];
    private readonly Dictionary<string, int> _byName = new(StringComparer.Ordinal);

    /// <summary>Number of labels.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _byId.Count;
            }
        }
    }

    /// <summary>The label with id <paramref name="id"/>.</summary>
    public LabelDefinition this[int id]
    {
        get
        {
            lock (_gate)
            {
                return _byId[id];
            }
        }
    }

    /// <summary>The label named <paramref name="name"/> (canonical).</summary>
    public LabelDefinition Get(string name)
    {
        lock (_gate)
        {
            return _byId[_byName[name]];
        }
    }

    /// <summary>All labels, by id.</summary>
    public IReadOnlyList<LabelDefinition> Snapshot()
    {
        lock (_gate)
        {
            return [.. _byId];
        }
    }

    internal int GetOrAdd(LabelDefinition definition)
    {
        lock (_gate)
        {
            if (!_byName.TryGetValue(definition.Name, out int id))
            {
                id = _byId.Count;
                _byId.Add(definition);
                _byName.Add(definition.Name, id);
            }

            return id;
        }
    }
}
