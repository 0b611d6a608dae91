using Stakeout.Core;

namespace Stakeout.Ingest;

/// <summary>Counts kept by one chunk's parse, merged in file order by the reader. Not thread-safe: one per chunk.</summary>
internal sealed class ChunkTally
{
    public long RowsRead;
    public long RowsRejected;
    public long BlankLines;
    public long NonFiniteDrops;
    public long CrLines;
    public long InitWinMinusOne;
    public long PortsWrittenAsFloat;
    public long AfternoonInferred;
    public long QuotedLines;
    public long LabelRaw0x96;
    public long LabelC2x96;
    public long LabelEnDash;
    public long LabelOtherNonAscii;
    public bool NoFinalNewline;
    public readonly long[] RejectCounts = new long[Enum.GetValues<RejectReason>().Length];
    public readonly long[] InfinityTokens = new long[FeatureSchema.Count];
    public readonly long[] LowerInfTokens = new long[FeatureSchema.Count];
    public readonly long[] NanTokens = new long[FeatureSchema.Count];
    public readonly long[] EmptyCells = new long[FeatureSchema.Count];
    public readonly List<RejectedRow> Rejects = [];
    public Dictionary<string, long>? UnknownLabels;
    public LabelLevel? CoarsestLevel;

    /// <summary>Each row's duplicate key (features and label hashed), computed in the parallel parse; null when duplicates are ignored.</summary>
    public UInt128[]? RowKeys;

    public void AddQuirksTo(Action<string, long> add)
    {
        add("crlf_line_endings", CrLines);
        add("init_win_bytes_minus_one", InitWinMinusOne);
        add("ports_written_as_floats", PortsWrittenAsFloat);
        add("timestamp_12h_hour_read_as_pm", AfternoonInferred);
        add("quoted_lines", QuotedLines);
        add("label_encoding:raw_0x96_byte", LabelRaw0x96);
        add("label_encoding:c2_96_mis_encoded", LabelC2x96);
        add("label_encoding:utf8_en_dash", LabelEnDash);
        add("label_encoding:other_non_ascii", LabelOtherNonAscii);
        add("blank_lines", BlankLines);
        add("no_newline_at_end_of_file", NoFinalNewline ? 1 : 0);
        for (int f = 0; f < FeatureSchema.Count; f++)
        {
            string name = FeatureSchema.Names[f];
            add($"infinity:{name}", InfinityTokens[f]);
            add($"inf_lowercase:{name}", LowerInfTokens[f]);
            add($"nan:{name}", NanTokens[f]);
            add($"empty_cell:{name}", EmptyCells[f]);
        }

        if (UnknownLabels is not null)
        {
            foreach (var (label, count) in UnknownLabels)
            {
                add($"unknown_label:{label}", count);
            }
        }
    }
}
