using System.Text;
using Stakeout.Core;

namespace Stakeout.Ingest;

/// <summary>What a column holds.</summary>
internal enum ColumnKind : byte
{
    Ignored,
    Feature,
    FlowId,
    SourceIp,
    SourcePort,
    DestinationIp,
    Protocol,
    Timestamp,
    Label,
}

/// <summary>
/// A file's header resolved against the canonical schema: for every column, what it holds and where it goes.
/// Built once per file; the row parser only indexes its arrays.
/// </summary>
internal sealed class HeaderMap
{
    private HeaderMap(string[] names, ColumnKind[] kinds, int[] featureIndex)
    {
        Names = names;
        Kinds = kinds;
        FeatureIndex = featureIndex;
    }

    /// <summary>Column names as written, trimmed.</summary>
    public string[] Names { get; }

    public ColumnKind[] Kinds { get; }

    /// <summary>Feature index per column, -1 for non-feature columns.</summary>
    public int[] FeatureIndex { get; }

    public bool[] FeaturePresent { get; } = new bool[FeatureSchema.Count];

    /// <summary>Features this file lacks, written as NaN in every row.</summary>
    public int[] AbsentFeatures { get; private set; } = [];

    /// <summary>The file lacks the duplicated Fwd Header Length column, which is filled from Fwd Header Length.</summary>
    public bool FillFwdHeaderDuplicate { get; private set; }

    public bool HasIdentity { get; private set; }

    public bool HasLabel { get; private set; }

    public bool HasFlowId { get; private set; }

    public FileLayout Layout { get; private set; }

    public List<KeyValuePair<string, long>> Quirks { get; } = [];

    public int ColumnCount => Kinds.Length;

    /// <summary>
    /// Resolves a header line (without its line end, BOM already removed). Throws <see cref="FlowDataException"/> for a
    /// file that is not a flow CSV, uses another delimiter, repeats a column or lacks a required feature.
    /// </summary>
    public static HeaderMap Parse(ReadOnlySpan<byte> header, string file, FlowReaderOptions options)
    {
        if (header.IndexOf((byte)0) >= 0)
        {
            throw new FlowDataException(file, 1, null, "not a flow CSV: the header holds NUL bytes (a binary or UTF-16 file?). Flow CSVs are UTF-8 or ASCII text.");
        }

        if (header.IndexOf((byte)'\r') >= 0)
        {
            // Classic Mac line ends: the whole file would otherwise be one header line and read as zero rows.
            throw new FlowDataException(file, 1, null, "the header holds a carriage return: the file's lines end in CR alone (classic Mac); save it with LF or CRLF line ends.");
        }

        string text = Encoding.UTF8.GetString(header);
        if (!text.Contains(',', StringComparison.Ordinal))
        {
            foreach (char d in ";\t|")
            {
                if (text.Contains(d, StringComparison.Ordinal))
                {
                    string shown = d == '\t' ? "a tab" : $"'{d}'";
                    throw new FlowDataException(file, 1, null, $"wrong delimiter: the header is separated by {shown}; flow CSVs are comma-separated.");
                }
            }
        }

        string[] raw = CsvSplit.SplitHeader(text);
        var names = new string[raw.Length];
        var kinds = new ColumnKind[raw.Length];
        var featureIndex = new int[raw.Length];
        var map = new HeaderMap(names, kinds, featureIndex);
        int padded = 0;
        var firstColumnOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var unknown = new List<string>();
        string? totalFwdPacketsKey = null;

        for (int c = 0; c < raw.Length; c++)
        {
            string name = raw[c].Trim();
            names[c] = name;
            featureIndex[c] = -1;
            if (name.Length != raw[c].Length)
            {
                padded++;
            }

            string key = FeatureSchema.NormalizeKey(name);
            ColumnKind kind = IdentityKind(key);
            if (kind == ColumnKind.Ignored && FeatureSchema.TryResolve(name, out int feature))
            {
                if (feature == FeatureSchema.FwdHeaderLength && map.FeaturePresent[feature])
                {
                    // CIC's CSV writer emits "Fwd Header Length" twice; the second copy has a slot of its own.
                    feature = FeatureSchema.FwdHeaderLengthDuplicate;
                    map.Quirks.Add(new("duplicate_column:Fwd Header Length", 1));
                }
                else if (feature == FeatureSchema.FwdHeaderLengthDuplicate)
                {
                    map.Quirks.Add(new("pandas_suffix:Fwd Header Length.1", 1));
                }

                if (map.FeaturePresent[feature])
                {
                    int first = Array.IndexOf(featureIndex, feature);
                    throw new FlowDataException(file, 1, name, $"column '{FeatureSchema.Get(feature).Name}' appears twice (columns {first + 1} and {c + 1}).");
                }

                map.FeaturePresent[feature] = true;
                featureIndex[c] = feature;
                kind = ColumnKind.Feature;
                if (feature == FeatureSchema.TotalFwdPackets)
                {
                    totalFwdPacketsKey = key;
                }
            }
            else if (kind != ColumnKind.Ignored)
            {
                if (firstColumnOf.TryGetValue(kind.ToString(), out int first))
                {
                    throw new FlowDataException(file, 1, name, $"column '{name}' appears twice (columns {first + 1} and {c + 1}).");
                }

                firstColumnOf[kind.ToString()] = c;
            }
            else if (name.Length > 0)
            {
                unknown.Add(name);
            }

            kinds[c] = kind;
        }

        int present = map.FeaturePresent.Count(p => p);
        if (present == 0)
        {
            string start = string.Join(", ", names.Take(5).Select(n => $"'{Shorten(n)}'"));
            throw new FlowDataException(file, 1, null, $"not a flow CSV: none of the 78 CICFlowMeter feature names is in the header (it starts {start}).");
        }

        if (padded > 0)
        {
            map.Quirks.Add(new("header_names_padded_with_spaces", padded));
        }

        foreach (string u in unknown)
        {
            map.Quirks.Add(new($"unknown_column:{Shorten(u)}", 1));
        }

        if (!map.FeaturePresent[FeatureSchema.FwdHeaderLengthDuplicate] && map.FeaturePresent[FeatureSchema.FwdHeaderLength])
        {
            map.FillFwdHeaderDuplicate = true;
            map.FeaturePresent[FeatureSchema.FwdHeaderLengthDuplicate] = true;
            map.Quirks.Add(new("filled_from_fwd_header_length:Fwd Header Length.1", 1));
        }

        map.HasLabel = kinds.Contains(ColumnKind.Label);
        map.HasFlowId = kinds.Contains(ColumnKind.FlowId);
        map.HasIdentity = kinds.Any(k => k is ColumnKind.SourceIp or ColumnKind.DestinationIp or ColumnKind.SourcePort or ColumnKind.Timestamp);
        map.AbsentFeatures = [.. Enumerable.Range(0, FeatureSchema.Count).Where(f => !map.FeaturePresent[f])];
        map.Layout = DetectLayout(map, totalFwdPacketsKey);

        var missingRequired = options.RequiredFeatures.Where(f => !map.FeaturePresent[f]).Select(f => FeatureSchema.Get(f).Name).ToList();
        if (missingRequired.Count > 0)
        {
            throw new FlowDataException(file, 1, null, $"the header lacks required features: {string.Join(", ", missingRequired.Select(n => $"'{n}'"))}.");
        }

        if (options.RequireLabel && !map.HasLabel)
        {
            throw new FlowDataException(file, 1, null, "the header has no 'Label' column, and labelled data is required here.");
        }

        return map;
    }

    private static ColumnKind IdentityKind(string key) => key switch
    {
        "flowid" => ColumnKind.FlowId,
        "sourceip" or "srcip" or "srcaddr" => ColumnKind.SourceIp,
        "sourceport" or "srcport" => ColumnKind.SourcePort,
        "destinationip" or "dstip" or "dstaddr" => ColumnKind.DestinationIp,
        "protocol" or "proto" => ColumnKind.Protocol,
        "timestamp" => ColumnKind.Timestamp,
        "label" => ColumnKind.Label,
        _ => ColumnKind.Ignored,
    };

    private static FileLayout DetectLayout(HeaderMap map, string? totalFwdPacketsKey)
    {
        bool all = map.AbsentFeatures.Length == 0;
        return totalFwdPacketsKey switch
        {
            "totalfwdpacket" => FileLayout.CicFlowMeterV4,
            "totfwdpkts" => FileLayout.CseCicIds2018,
            "totalfwdpackets" when all && map.HasIdentity => FileLayout.TrafficLabelling,
            "totalfwdpackets" when all => FileLayout.MachineLearningCve,
            _ => FileLayout.PartialCicIds2017,
        };
    }

    internal static string Shorten(string s) => s.Length <= 40 ? s : string.Concat(s.AsSpan(0, 37), "...");
}
