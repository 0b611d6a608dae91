using System.Text;
using Stakeout.Core;
using Stakeout.FlowMeter;
using Stakeout.FlowMeter.Capture;
using Stakeout.FlowMeter.Decoding;
using Stakeout.FlowMeter.Flows;
using Stakeout.Ingest;
using Stakeout.Models;

namespace Stakeout.Fuzz;

/// <summary>What one input did: read (accepted), refused with the parser's own error type, or a finding.</summary>
internal enum Outcome
{
    Accepted,
    Refused,
}

/// <summary>A parser under fuzz: its seeds, its dictionary, and one run that throws only for a finding.</summary>
internal abstract class FuzzTarget
{
    public abstract string Name { get; }

    /// <summary>What the target reads, for the report.</summary>
    public abstract string Description { get; }

    public abstract int MaxBytes { get; }

    public abstract IReadOnlyList<byte[]> Tokens { get; }

    public abstract IReadOnlyList<byte[]> LoadCorpus(string sharedData, string repoRoot);

    /// <summary>Runs one input. Returns Refused for the parser's documented error; throws <see cref="FuzzFinding"/> or anything else for a defect.</summary>
    public abstract Outcome Run(byte[] input);

    protected static IEnumerable<string> Files(string root, params string[] patterns) =>
        Directory.Exists(root) ? patterns.SelectMany(p => Directory.EnumerateFiles(root, p, SearchOption.AllDirectories)).Order(StringComparer.Ordinal) : [];
}

/// <summary>A broken invariant that is not an exception of the parser itself (accounting, counts).</summary>
internal sealed class FuzzFinding(string message) : Exception(message);

/// <summary>The flow CSV reader, every layout, through a real file (as users give it).</summary>
internal sealed class CsvTarget : FuzzTarget, IDisposable
{
    private readonly string _dir = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), "stakeout-fuzz-" + Environment.ProcessId);
    // Small chunks: inputs up to 64 KiB then cross chunk boundaries, where the parallel reader stitches lines back together.
    private readonly FlowCsvReader _reader = new(new FlowReaderOptions { SkipBadFiles = false, MaxRejectDetails = 10, MaxLineBytes = 16 * 1024, ChunkBytes = 32 * 1024 });

    public CsvTarget() => Directory.CreateDirectory(_dir);

    public override string Name => "csv";

    public override string Description => "flow CSV reader (CIC-IDS2017 both layouts, CICFlowMeter, pandas re-saves, families)";

    public override int MaxBytes => 64 * 1024;

    public override IReadOnlyList<byte[]> Tokens { get; } = Mutator.Tokens(
        ",", "\n", "\r\n", "\r", "\"", "\"\"", "Infinity", "-Infinity", "inf", "NaN", "-1", "1e39", "1e-50", "80.0",
        "123456789012345678901234567890", "7/7/2017 3:30", "BENIGN", "Web Attack \u0096 XSS", "\u00c2\u0096", " Label", " Flow Duration",
        "Fwd Header Length.1", "192.168.10.5", "\uFEFF", "\0");

    public override IReadOnlyList<byte[]> LoadCorpus(string sharedData, string repoRoot)
    {
        // The first 40 lines of every real file: every layout, quirk and label spelling, small enough to mutate fast.
        return [.. Files(sharedData, "*.csv").Concat(Files(Path.Combine(repoRoot, "samples"), "*.csv"))
            .Select(f => Encoding.Latin1.GetBytes(string.Join('\n', ReadLinesLatin1(f).Take(40)) + "\n"))];
    }

    public override Outcome Run(byte[] input)
    {
        string path = Path.Combine(_dir, "input.csv");
        File.WriteAllBytes(path, input);
        FlowRead read;
        long rows = 0;
        try
        {
            read = _reader.Open([path]);
            foreach (var batch in read.ReadBatches())
            {
                rows += batch.Count;
            }
        }
        catch (FlowDataException)
        {
            return Outcome.Refused;
        }

        var report = read.Report;
        if (!report.IsBalanced || report.RowsUsed != rows)
        {
            throw new FuzzFinding($"accounting: read {report.RowsRead} != used {report.RowsUsed} + rejected {report.RowsRejected} + dropped {report.RowsDropped}, or {rows} rows handed out");
        }

        return Outcome.Accepted;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static IEnumerable<string> ReadLinesLatin1(string path)
    {
        using var reader = new StreamReader(path, Encoding.Latin1);
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }
}

/// <summary>The pcap/pcapng reader and the whole flow meter behind it (decoders, flow table, features).</summary>
internal sealed class PcapTarget : FuzzTarget
{
    public override string Name => "pcap";

    public override string Description => "pcap/pcapng reader, Ethernet/VLAN/SLL/IP/TCP/UDP/ICMP decoders and the flow meter, both modes";

    public override int MaxBytes => 256 * 1024;

    public override IReadOnlyList<byte[]> Tokens { get; } =
    [
        [0xD4, 0xC3, 0xB2, 0xA1], [0x0A, 0x0D, 0x0D, 0x0A], [0x4D, 0x3C, 0xB2, 0xA1], [0x08, 0x00], [0x86, 0xDD], [0x81, 0x00], [0x88, 0xA8],
        [0x45, 0x00], [0x60, 0x00, 0x00, 0x00], [0x06], [0x11], [0x01], [0x3A], [0xFF, 0xFF, 0xFF, 0xFF], [0x00, 0x00, 0x00, 0x00],
    ];

    public override IReadOnlyList<byte[]> LoadCorpus(string sharedData, string repoRoot) =>
        [.. Files(sharedData, "*.pcap", "*.pcapng").Select(File.ReadAllBytes).Select(b => b.Length > MaxBytes ? b[..MaxBytes] : b)];

    public override Outcome Run(byte[] input)
    {
        var weird = new WeirdCounters();
        CaptureReader reader;
        try
        {
            reader = new CaptureReader(new MemoryStream(input, writable: false), "fuzz", weird);
        }
        catch (InvalidDataException)
        {
            return Outcome.Refused;
        }

        using (reader)
        {
            var sink = new CountingSink();
            var cic = new PacketFlowMeter(new FlowMeterOptions(), sink);
            var corrected = new PacketFlowMeter(new FlowMeterOptions { Mode = FlowMeterMode.Corrected }, sink);
            long records = 0;
            while (reader.TryRead(out var record))
            {
                records++;
                cic.Process(record);
                corrected.Process(record);
            }

            cic.Flush();
            corrected.Flush();
            if (weird.Records < records || cic.Weird.Decoded > records || corrected.Weird.Decoded > records)
            {
                throw new FuzzFinding($"packet accounting: {records} records handed out, the reader counted {weird.Records}, the meters decoded {cic.Weird.Decoded} and {corrected.Weird.Decoded}");
            }

            if (cic.OpenFlows != 0 || corrected.OpenFlows != 0)
            {
                throw new FuzzFinding($"flows still open after Flush: {cic.OpenFlows} and {corrected.OpenFlows}");
            }

            if (sink.Flows > cic.Flows.Started + corrected.Flows.Started)
            {
                throw new FuzzFinding($"{sink.Flows} flows reported, more than the {cic.Flows.Started + corrected.Flows.Started} started");
            }
        }

        return Outcome.Accepted;
    }

    private sealed class CountingSink : IFlowSink
    {
        public long Flows { get; private set; }

        public void OnFlow(in CompletedFlow flow)
        {
            Flows++;
            if (flow.Features.Length != FeatureSchema.Count)
            {
                throw new FuzzFinding($"a flow with {flow.Features.Length} features");
            }
        }
    }
}

/// <summary>The artifact container as stored (digest, signature, sections): a flipped bit must be refused, never crash.</summary>
internal sealed class ArtifactTarget : FuzzTarget
{
    public override string Name => "artifact";

    public override string Description => "model artifact container as stored: framing, SHA-256, signature, sections";

    public override int MaxBytes => 2 * 1024 * 1024;

    public override IReadOnlyList<byte[]> Tokens { get; } = Mutator.Tokens("{", "}", "\"manifest\"", "\"model\"", "\0\0\0\0");

    public override IReadOnlyList<byte[]> LoadCorpus(string sharedData, string repoRoot) =>
        [.. Files(Path.Combine(repoRoot, "tests"), "*.stakeout").Select(File.ReadAllBytes)];

    public override Outcome Run(byte[] input) => ArtifactSectionsTarget.Load(input);
}

/// <summary>
/// The manifest JSON and the LightGBM text model inside a correctly sealed artifact: mutated inside, re-sealed with a
/// valid digest, so the fuzzing reaches the manifest validation, the model parser, the tree compiler and the scorer.
/// </summary>
internal sealed class ArtifactSectionsTarget : FuzzTarget
{
    private IReadOnlyList<ArtifactSection> _template = [];

    public override string Name => "artifact-sections";

    public override string Description => "manifest JSON, LightGBM text model, tree compiler and scorer, inside a valid seal";

    public override int MaxBytes => 2 * 1024 * 1024;

    public override IReadOnlyList<byte[]> Tokens { get; } = Mutator.Tokens(
        "Tree=", "num_leaves=", "split_feature=", "threshold=", "left_child=", "right_child=", "leaf_value=", "decision_type=",
        "num_class=", "-1", "NaN", "1e309", "\"classes\":", "\"features\":", "\"threshold\":", "[]", "null", "\n\n", "end of trees");

    public override IReadOnlyList<byte[]> LoadCorpus(string sharedData, string repoRoot)
    {
        var seeds = Files(Path.Combine(repoRoot, "tests"), "*.stakeout").Select(File.ReadAllBytes).ToList();
        _template = ArtifactContainer.Read(seeds[0], "seed").Sections;
        // One input = the manifest and the model section joined by a separator the mutator rarely makes.
        return [.. seeds.Select(s => ArtifactContainer.Read(s, "seed").Sections)
            .Select(sections => sections.Single(x => x.Name == ModelArtifact.ManifestSection).Content
                .Concat(Separator).Concat(sections.Single(x => x.Name == ModelArtifact.PayloadSection).Content).ToArray())];
    }

    private static readonly byte[] Separator = "\n\u0001SECTION\u0001\n"u8.ToArray();

    public override Outcome Run(byte[] input)
    {
        int cut = input.AsSpan().IndexOf(Separator);
        byte[] manifest = cut < 0 ? input : input[..cut];
        byte[] model = cut < 0 ? [] : input[(cut + Separator.Length)..];
        var sections = _template.Select(s => s.Name == ModelArtifact.ManifestSection ? s with { Content = manifest }
            : s.Name == ModelArtifact.PayloadSection ? s with { Content = model } : s).ToList();
        return Load(ArtifactContainer.Write(sections));
    }

    internal static Outcome Load(byte[] bytes)
    {
        IFlowScorer scorer;
        try
        {
            scorer = ModelArtifact.Read(bytes, "fuzz").CreateScorer();
        }
        catch (ArtifactException)
        {
            return Outcome.Refused;
        }

        var rows = new float[4 * FeatureSchema.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = i % 7 == 0 ? float.NaN : i % 5 == 0 ? float.PositiveInfinity : i * 3.5f;
        }

        var probabilities = new float[4 * scorer.Classes.Count];
        scorer.Score(rows, probabilities);
        foreach (float p in probabilities)
        {
            if (!(p >= 0 && p <= 1))
            {
                throw new FuzzFinding($"a loaded model scored a probability of {p}");
            }
        }

        return Outcome.Accepted;
    }
}
