using System.Globalization;

namespace Stakeout.Benchmarks;

/// <summary>
/// Builds a large CIC-layout flow CSV by repeating real rows, so the reader benchmark runs on the bytes the dataset really
/// has (leading-space header, the duplicated Fwd Header Length, CRLF, Infinity and NaN cells) at a size where throughput
/// and memory show. Deterministic: the same sources, seed and size give the same file, byte for byte.
/// </summary>
/// <remarks>
/// Each pass writes every source row once, in an order shuffled by a seeded <see cref="Random"/>, so the file is not one
/// block repeated (which would flatter branch prediction) and whole passes keep every per-file quirk count an exact
/// multiple of the sources' counts.
/// </remarks>
internal static class CicLargeFile
{
    private const string Usage = """
        usage: Stakeout.Benchmarks generate-cic --out FILE [--min-mb N] [--seed N] SOURCE.csv...
          Writes FILE (the header of the first source, then whole shuffled passes over every source's data lines) until it
          holds at least N MB (10^6 bytes; default 500). All sources must share one header, byte for byte.
        example:
          Stakeout.Benchmarks generate-cic --out bench/data/cic-large.csv \
            ../shared/data/cicids2017/mlcve_friday-ddos_head9998.csv ../shared/data/cicids2017/mlcve_head200.csv
        """;

    public static int Run(string[] args)
    {
        string? output = null;
        long minBytes = 500_000_000;
        int seed = 2017;
        var sources = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--out" when i + 1 < args.Length:
                    output = args[++i];
                    break;
                case "--min-mb" when i + 1 < args.Length:
                    minBytes = long.Parse(args[++i], CultureInfo.InvariantCulture) * 1_000_000;
                    break;
                case "--seed" when i + 1 < args.Length:
                    seed = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "-h" or "--help":
                    Console.WriteLine(Usage);
                    return 0;
                default:
                    if (args[i].StartsWith('-'))
                    {
                        Console.Error.WriteLine($"generate-cic: unknown option '{args[i]}'.\n{Usage}");
                        return 2;
                    }

                    sources.Add(args[i]);
                    break;
            }
        }

        if (output is null || sources.Count == 0 || minBytes <= 0)
        {
            Console.Error.WriteLine($"generate-cic: --out and at least one source are required, and --min-mb must be positive.\n{Usage}");
            return 2;
        }

        var (header, lines) = LoadSources(sources);
        var result = Write(output, header, lines, minBytes, seed);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"generate-cic: wrote {output}: {result.Bytes:N0} bytes, {result.Rows:N0} data rows ({result.Passes} passes over {lines.Count:N0} source rows, seed {seed})"));
        return 0;
    }

    /// <summary>Reads the shared header line and every data line (each with its own line ending) of <paramref name="sources"/>.</summary>
    internal static (byte[] Header, List<byte[]> Lines) LoadSources(IReadOnlyList<string> sources)
    {
        byte[]? header = null;
        var lines = new List<byte[]>();
        foreach (string source in sources)
        {
            byte[] bytes = File.ReadAllBytes(source);
            int start = 0;
            bool first = true;
            while (start < bytes.Length)
            {
                int nl = Array.IndexOf(bytes, (byte)'\n', start);
                if (nl < 0)
                {
                    throw new InvalidDataException($"{source}: the last line has no newline; the generator repeats lines and needs each to end with one.");
                }

                byte[] line = bytes.AsSpan(start, nl + 1 - start).ToArray();
                start = nl + 1;
                if (first)
                {
                    first = false;
                    if (header is null)
                    {
                        header = line;
                    }
                    else if (!header.AsSpan().SequenceEqual(line))
                    {
                        throw new InvalidDataException($"{source}: its header differs from {sources[0]}'s; every source must have the same layout.");
                    }

                    continue;
                }

                lines.Add(line);
            }
        }

        if (header is null || lines.Count == 0)
        {
            throw new InvalidDataException("the sources hold no data lines.");
        }

        return (header, lines);
    }

    /// <summary>Writes the file through a temporary name, so an interrupted run never leaves a short file behind.</summary>
    internal static (long Bytes, long Rows, int Passes) Write(string output, byte[] header, List<byte[]> lines, long minBytes, int seed)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(output));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        string temporary = output + ".partial";
        var random = new Random(seed);
        int[] order = [.. Enumerable.Range(0, lines.Count)];
        long bytes = header.Length;
        long rows = 0;
        int passes = 0;
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            stream.Write(header);
            while (bytes < minBytes)
            {
                random.Shuffle(order);
                foreach (int index in order)
                {
                    stream.Write(lines[index]);
                    bytes += lines[index].Length;
                }

                rows += lines.Count;
                passes++;
            }
        }

        File.Move(temporary, output, overwrite: true);
        return (bytes, rows, passes);
    }
}
