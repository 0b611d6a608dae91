using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Stakeout.Core;
using Stakeout.Ingest;

namespace Stakeout.Training;

/// <summary>How the labelled rows are turned into a training table.</summary>
public sealed record TrainingDataOptions
{
    /// <summary>Label level; null picks the finest level every file has.</summary>
    public LabelLevel? Level { get; init; }

    /// <summary>Keep "Destination Port" as a feature (off by default: it names the capture's tools more than their behaviour).</summary>
    public bool UsePort { get; init; }

    /// <summary>Canonical feature names (or aliases) never to use.</summary>
    public IReadOnlyCollection<string> ExcludeFeatures { get; init; } = [];

    /// <summary>Remove exact duplicates (same used features, same label at <see cref="Level"/>) across files before the split.</summary>
    public bool Deduplicate { get; init; } = true;

    /// <summary>When not null, the model must use exactly these canonical features (fine-tuning keeps the schema).</summary>
    public IReadOnlyList<int>? RequiredFeatures { get; init; }

    /// <summary>When not null, the class list and its order are fixed (fine-tuning keeps them); a class not in it is an error unless <see cref="AllowNewClasses"/>.</summary>
    public IReadOnlyList<string>? Classes { get; init; }

    /// <summary>With <see cref="Classes"/>: classes the data adds are appended instead of refused.</summary>
    public bool AllowNewClasses { get; init; }
}

/// <summary>What a file contributed: its path, rows read and its SHA-256.</summary>
/// <param name="Path">The path as read.</param>
/// <param name="RowsRead">Data lines read.</param>
/// <param name="RowsUsed">Rows kept after duplicates were removed.</param>
/// <param name="Sha256">Hex SHA-256 of the file's bytes.</param>
/// <param name="HasIdentity">True when the file has IP columns.</param>
public sealed record TrainingFile(string Path, long RowsRead, long RowsUsed, string Sha256, bool HasIdentity);

/// <summary>
/// Every labelled row of a read, in memory once: the reader's batches are kept as they came (row-major floats, 78 per row,
/// non-finite values already mapped "nan-zero-inf-max"), compacted in place when duplicates are removed, and addressed by a
/// global row number. Labels are class ids at <see cref="Level"/> into <see cref="Classes"/>.
/// </summary>
public sealed class TrainingTable
{
    private readonly List<FlowBatch> _blocks;
    private readonly int[] _blockStart;
    private readonly int[][] _labels;
    private readonly int[][]? _copies;

    private TrainingTable(List<FlowBatch> blocks, int[][] labels, LabelLevel level, IReadOnlyList<string> classes, IReadOnlyList<int> features, int[][]? copies = null)
    {
        _blocks = blocks;
        _labels = labels;
        _copies = copies;
        _blockStart = new int[blocks.Count + 1];
        for (int b = 0; b < blocks.Count; b++)
        {
            _blockStart[b + 1] = _blockStart[b] + blocks[b].Count;
        }

        Level = level;
        Classes = classes;
        Features = features;
    }

    /// <summary>Rows in the table.</summary>
    public int Count => _blockStart[^1];

    /// <summary>Label level of <see cref="Classes"/>.</summary>
    public LabelLevel Level { get; }

    /// <summary>Class names in model order (BENIGN first when present).</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Canonical indices of the features a model uses, ascending.</summary>
    public IReadOnlyList<int> Features { get; }

    /// <summary>Files read, with their fingerprints.</summary>
    public IReadOnlyList<TrainingFile> Files { get; private set; } = [];

    /// <summary>Rows read from all files.</summary>
    public long RowsRead { get; private set; }

    /// <summary>Exact duplicates removed.</summary>
    public long DuplicatesRemoved { get; private set; }

    /// <summary>Features dropped because some file lacks them, by canonical name.</summary>
    public IReadOnlyList<string> MissingFeatures { get; private set; } = [];

    /// <summary>Used features that hold one value in every row (they cannot help a model).</summary>
    public IReadOnlyList<string> ConstantFeatures { get; private set; } = [];

    /// <summary>Rows whose labels were unknown to the taxonomy, by label (kept as classes of their own).</summary>
    public IReadOnlyDictionary<string, long> UnknownLabels { get; private set; } = new Dictionary<string, long>();

    /// <summary>The reader's accounting.</summary>
    public ReadReport? Report { get; private set; }

    /// <summary>The 78 canonical floats of row <paramref name="row"/>.</summary>
    public ReadOnlySpan<float> Row(int row)
    {
        var (b, r) = Locate(row);
        return _blocks[b].Features.AsSpan(r * FeatureSchema.Count, FeatureSchema.Count);
    }

    /// <summary>
    /// How many rows of the files this row stands for (1 + the exact duplicates removed in its favour). The classifier
    /// trains on distinct rows; the drift profile counts every copy, because live traffic repeats flows as the files do.
    /// </summary>
    public int Copies(int row)
    {
        if (_copies is null)
        {
            return 1;
        }

        var (b, r) = Locate(row);
        return _copies[b][r];
    }

    /// <summary>The class id of row <paramref name="row"/>.</summary>
    public int Label(int row)
    {
        var (b, r) = Locate(row);
        return _labels[b][r];
    }

    /// <summary>Index (into <see cref="Files"/>) of the file row <paramref name="row"/> came from.</summary>
    public int Source(int row) => _blocks[Locate(row).Block].SourceIndex;

    /// <summary>Identity of row <paramref name="row"/>, when its file had one.</summary>
    public FlowIdentity? Identity(int row)
    {
        var (b, r) = Locate(row);
        return _blocks[b].Identities is { } ids ? ids[r] : null;
    }

    /// <summary>Rows per class over <paramref name="rows"/> (all rows when null).</summary>
    public long[] ClassCounts(IReadOnlyList<int>? rows = null)
    {
        var counts = new long[Classes.Count];
        if (rows is null)
        {
            foreach (var labels in _labels)
            {
                foreach (int l in labels)
                {
                    counts[l]++;
                }
            }
        }
        else
        {
            foreach (int row in rows)
            {
                counts[Label(row)]++;
            }
        }

        return counts;
    }

    private (int Block, int Row) Locate(int row)
    {
        if ((uint)row >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, $"row must be in [0, {Count}).");
        }

        int b = Array.BinarySearch(_blockStart, row);
        if (b < 0)
        {
            b = ~b - 1;
        }

        // Empty blocks share a start with the next one; step to the block that holds the row.
        while (_blockStart[b + 1] <= row)
        {
            b++;
        }

        return (b, row - _blockStart[b]);
    }

    /// <summary>
    /// Reads <paramref name="paths"/> into a table: maps non-finite values, picks the label level and the features, removes
    /// exact duplicates across files, and fingerprints every file. Throws <see cref="TrainingDataException"/> when the data
    /// cannot train a model (no labels, one class, a level finer than a file has, ...).
    /// </summary>
    public static TrainingTable Load(IReadOnlyList<string> paths, TrainingDataOptions options, IProgress<ReadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(options);
        var read = new FlowCsvReader(new FlowReaderOptions { RequireLabel = true, NonFinite = NonFinitePolicy.Keep }).Open(paths);
        var blocks = new List<FlowBatch>();
        foreach (var batch in read.ReadBatches(progress, cancellationToken))
        {
            NonFiniteMapping.Apply(batch.Features.AsSpan(0, batch.Count * FeatureSchema.Count));
            blocks.Add(batch);
        }

        var report = read.Report;
        if (report.RowsUsed == 0)
        {
            throw new TrainingDataException($"no labelled rows were read from {string.Join(", ", paths)}.");
        }

        var vocabulary = report.Labels.Snapshot();
        var level = ChooseLevel(report, vocabulary, options.Level);
        var (features, missing) = ChooseFeatures(report, options);

        // Label ids at the chosen level.
        var names = new string[vocabulary.Count];
        var unknown = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int id = 0; id < vocabulary.Count; id++)
        {
            var def = vocabulary[id];
            names[id] = level <= def.Level ? def.Name : def.At(level);
            if (!def.Known)
            {
                unknown[def.Name] = report.Classes.GetValueOrDefault(def.Name);
            }
        }

        var classes = OrderClasses(names.Distinct(StringComparer.Ordinal), level);
        if (options.Classes is { } fixedClasses)
        {
            var added = classes.Where(n => !fixedClasses.Contains(n)).ToList();
            if (added.Count > 0 && !options.AllowNewClasses)
            {
                throw new TrainingDataException($"the new data has classes the model does not know: {string.Join(", ", added)}; pass --allow-new-classes to add them.");
            }

            classes = [.. fixedClasses, .. added];
        }
        var classIndex = classes.Select((c, i) => (c, i)).ToDictionary(t => t.c, t => t.i, StringComparer.Ordinal);
        var labels = new int[blocks.Count][];
        for (int b = 0; b < blocks.Count; b++)
        {
            var batch = blocks[b];
            labels[b] = new int[batch.Count];
            for (int r = 0; r < batch.Count; r++)
            {
                labels[b][r] = classIndex[names[batch.LabelIds[r]]];
            }
        }

        int[][]? copies = options.Deduplicate ? new int[blocks.Count][] : null;
        long duplicates = options.Deduplicate ? RemoveDuplicates(blocks, labels, features, copies!) : 0;
        var used = new long[read.Inputs.Count];
        foreach (var batch in blocks)
        {
            used[batch.SourceIndex] += batch.Count;
        }

        var files = new List<TrainingFile>();
        for (int i = 0; i < read.Inputs.Count; i++)
        {
            var file = report.Files[i];
            files.Add(new TrainingFile(file.Path, file.RowsRead, used[i], Fingerprint(read.Inputs[i]), file.HasIdentity));
        }

        var table = new TrainingTable(blocks, labels, level, classes, features, copies)
        {
            Files = files,
            RowsRead = report.RowsRead,
            DuplicatesRemoved = duplicates,
            MissingFeatures = missing,
            UnknownLabels = unknown,
            Report = report,
        };
        if (table.Classes.Count < 2 || options.Classes is null && table.ClassCounts().Count(n => n > 0) < 2)
        {
            throw new TrainingDataException($"the data holds one class only ({table.Classes[0]}); a classifier needs at least two.");
        }

        table.ConstantFeatures = table.FindConstantFeatures();
        return table;
    }

    private List<string> FindConstantFeatures()
    {
        var result = new List<string>();
        if (Count == 0)
        {
            return result;
        }

        var first = Row(0).ToArray();
        var varies = new bool[FeatureSchema.Count];
        foreach (var batch in _blocks)
        {
            for (int r = 0; r < batch.Count; r++)
            {
                var row = batch.Features.AsSpan(r * FeatureSchema.Count, FeatureSchema.Count);
                foreach (int f in Features)
                {
                    if (!varies[f] && row[f] != first[f])
                    {
                        varies[f] = true;
                    }
                }
            }
        }

        foreach (int f in Features)
        {
            if (!varies[f])
            {
                result.Add(FeatureSchema.Features[f].Name);
            }
        }

        return result;
    }

    private static LabelLevel ChooseLevel(ReadReport report, IReadOnlyList<LabelDefinition> vocabulary, LabelLevel? requested)
    {
        // The finest level every file has is the coarsest of the files' own levels.
        var coarsest = LabelLevel.Class;
        string? coarsestFile = null;
        foreach (var file in report.Files)
        {
            if (file.LabelLevel is { } l && l > coarsest)
            {
                coarsest = l;
                coarsestFile = file.Path;
            }
        }

        foreach (var def in vocabulary)
        {
            coarsest = def.Level > coarsest ? def.Level : coarsest;
        }

        if (requested is { } r)
        {
            if (r < coarsest)
            {
                throw new TrainingDataException($"--labels {Name(r)} is finer than the data allows: {coarsestFile ?? "a file"} is labelled at {Name(coarsest)} level; use --labels {Name(coarsest)} or coarser.");
            }

            return r;
        }

        return coarsest;
    }

    /// <summary>The CLI and manifest name of a level.</summary>
    public static string Name(LabelLevel level) => level switch
    {
        LabelLevel.Class => "class",
        LabelLevel.Family => "family",
        _ => "binary",
    };

    /// <summary>Parses "class", "family" or "binary".</summary>
    public static LabelLevel ParseLevel(string text) => text.Trim().ToUpperInvariant() switch
    {
        "CLASS" => LabelLevel.Class,
        "FAMILY" => LabelLevel.Family,
        "BINARY" => LabelLevel.Binary,
        _ => throw new ArgumentException($"label level '{text}' is not one of class, family, binary.", nameof(text)),
    };

    private static (IReadOnlyList<int> Features, IReadOnlyList<string> Missing) ChooseFeatures(ReadReport report, TrainingDataOptions options)
    {
        var excluded = new HashSet<int>();
        foreach (string name in options.ExcludeFeatures)
        {
            if (!FeatureSchema.TryResolve(name, out int index))
            {
                throw new TrainingDataException($"--exclude-features: '{name}' is not a feature name (see `stakeout data inspect` for the canonical names).");
            }

            excluded.Add(index);
        }

        var missing = new SortedSet<int>();
        foreach (var file in report.Files)
        {
            foreach (string name in file.MissingFeatures)
            {
                if (FeatureSchema.TryResolve(name, out int index))
                {
                    missing.Add(index);
                }
            }
        }

        if (options.RequiredFeatures is { } required)
        {
            var absent = required.Where(missing.Contains).Select(f => FeatureSchema.Features[f].Name).ToList();
            if (absent.Count > 0)
            {
                throw new TrainingDataException($"the model needs features the new data lacks: {string.Join(", ", absent)}.");
            }

            return (required.ToArray(), []);
        }

        var features = new List<int>();
        for (int f = 0; f < FeatureSchema.Count; f++)
        {
            bool portOff = f == FeatureSchema.DestinationPort && !options.UsePort;
            if (!portOff && !excluded.Contains(f) && !missing.Contains(f))
            {
                features.Add(f);
            }
        }

        if (features.Count == 0)
        {
            throw new TrainingDataException("no feature is left: every feature is excluded or missing from some file.");
        }

        return (features, [.. missing.Select(f => FeatureSchema.Features[f].Name)]);
    }

    /// <summary>BENIGN first, then the taxonomy's order, then unknown labels by name.</summary>
    internal static IReadOnlyList<string> OrderClasses(IEnumerable<string> names, LabelLevel level)
    {
        List<string> order = level switch
        {
            LabelLevel.Class => [.. LabelTaxonomy.Classes.Select(c => c.Name)],
            LabelLevel.Family => [.. LabelTaxonomy.Families],
            _ => [LabelTaxonomy.Benign, LabelTaxonomy.Attack],
        };
        return [.. names.OrderBy(n => order.IndexOf(n) is int i && i >= 0 ? i : int.MaxValue).ThenBy(n => n, StringComparer.Ordinal)];
    }

    private static long RemoveDuplicates(List<FlowBatch> blocks, int[][] labels, IReadOnlyList<int> features, int[][] copies)
    {
        var seen = new Dictionary<UInt128, (int Block, int Row)>();
        for (int b = 0; b < blocks.Count; b++)
        {
            copies[b] = new int[blocks[b].Count];
        }

        long removed = 0;
        var key = new float[features.Count];
        for (int b = 0; b < blocks.Count; b++)
        {
            var batch = blocks[b];
            int write = 0;
            for (int r = 0; r < batch.Count; r++)
            {
                var row = batch.Features.AsSpan(r * FeatureSchema.Count, FeatureSchema.Count);
                for (int j = 0; j < key.Length; j++)
                {
                    key[j] = row[features[j]];
                }

                var hash = XxHash128.HashToUInt128(MemoryMarshal.AsBytes(key.AsSpan()), labels[b][r]);
                if (seen.TryGetValue(hash, out var kept))
                {
                    copies[kept.Block][kept.Row]++;
                    removed++;
                    continue;
                }

                seen.Add(hash, (b, write));
                if (write != r)
                {
                    batch.MoveRow(r, write);
                    labels[b][write] = labels[b][r];
                }

                copies[b][write] = 1;
                write++;
            }

            batch.Count = write;
            if (write != labels[b].Length)
            {
                Array.Resize(ref labels[b], write);
            }
        }

        return removed;
    }

    private static string Fingerprint(FlowInput input)
    {
        using var stream = File.OpenRead(input.Path);
        if (input.EntryName is null)
        {
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        }

        using var archive = new System.IO.Compression.ZipArchive(stream);
        using var entry = archive.GetEntry(input.EntryName)!.Open();
        return Convert.ToHexStringLower(SHA256.HashData(entry));
    }

    /// <summary>Writes <paramref name="rows"/> as CSV: the used features' canonical names, then Label (at <see cref="Level"/>).</summary>
    public void WriteCsv(string path, IReadOnlyList<int> rows)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(rows);
        using var writer = new StreamWriter(path, append: false, new System.Text.UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
        writer.WriteLine(string.Join(',', Features.Select(f => FeatureSchema.Features[f].Name)) + ",Label");
        var sb = new System.Text.StringBuilder(1024);
        foreach (int row in rows)
        {
            sb.Clear();
            var values = Row(row);
            foreach (int f in Features)
            {
                sb.Append(values[f].ToString("R", CultureInfo.InvariantCulture)).Append(',');
            }

            sb.Append(Classes[Label(row)]);
            writer.WriteLine(sb);
        }
    }
}

/// <summary>The contract's "nan-zero-inf-max" mapping, applied to rows before any model sees them.</summary>
public static class NonFiniteMapping
{
    /// <summary>The manifest name of this mapping.</summary>
    public const string Name = "nan-zero-inf-max";

    /// <summary>NaN to 0, +Infinity to float.MaxValue, -Infinity to -float.MaxValue, in place.</summary>
    public static void Apply(Span<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (!float.IsFinite(v))
            {
                values[i] = float.IsNaN(v) ? 0f : v > 0 ? float.MaxValue : -float.MaxValue;
            }
        }
    }
}

/// <summary>The data cannot train the model asked for; the message says why.</summary>
public sealed class TrainingDataException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingDataException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public TrainingDataException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public TrainingDataException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
