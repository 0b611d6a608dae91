using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Stakeout.Core;
using Stakeout.Ingest;

namespace Stakeout.Benchmarks;

/// <summary>
/// One end-to-end read of flow CSVs with <see cref="FlowCsvReader"/>, used the way `stakeout data inspect` and training use
/// it (every row into float batches, accounting on), timed and measured for peak memory. Prints one JSON object so
/// bench/reader/run.sh can put it beside pandas.
/// </summary>
internal static class ReaderRun
{
    private const string Usage = """
        usage: Stakeout.Benchmarks read [--mode stream|keep] [--no-identity] [--parallelism N] [--quiet] FILE...
          stream         drop each batch once it is counted (what inspect does): memory stays flat.
          keep           keep every batch (what training does): the batches are the only copy of the features.
          --no-identity  FlowReaderOptions.ReadIdentity = false: no Flow ID, addresses or timestamps in the batches.
        example:
          Stakeout.Benchmarks read --mode keep bench/data/cic-large.csv
        """;

    public static int Run(string[] args)
    {
        string mode = "stream";
        int parallelism = 0;
        bool quiet = false;
        bool identity = true;
        var paths = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--mode" when i + 1 < args.Length:
                    mode = args[++i];
                    break;
                case "--parallelism" when i + 1 < args.Length:
                    parallelism = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--quiet":
                    quiet = true;
                    break;
                case "--no-identity":
                    identity = false;
                    break;
                case "-h" or "--help":
                    Console.WriteLine(Usage);
                    return 0;
                default:
                    if (args[i].StartsWith('-'))
                    {
                        Console.Error.WriteLine($"read: unknown option '{args[i]}'.\n{Usage}");
                        return 2;
                    }

                    paths.Add(args[i]);
                    break;
            }
        }

        if (paths.Count == 0 || mode is not ("stream" or "keep"))
        {
            Console.Error.WriteLine($"read: give at least one file, and --mode stream or keep.\n{Usage}");
            return 2;
        }

        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var read = new FlowCsvReader(new FlowReaderOptions { Parallelism = parallelism, ReadIdentity = identity }).Open(paths);
        var kept = new List<FlowBatch>();
        double checksum = 0;
        var progress = quiet ? null : new StderrProgress(clock);
        foreach (var batch in read.ReadBatches(progress))
        {
            // The consumer touches every row; the sum of Destination Port is compared with pandas' in run.sh.
            for (int r = 0; r < batch.Count; r++)
            {
                checksum += batch.Features[(r * FeatureSchema.Count) + FeatureSchema.DestinationPort];
            }

            if (mode == "keep")
            {
                kept.Add(batch);
            }
        }

        clock.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        long peakRss = PeakRssBytes();

        // What the consumer holds after the read (all batches under keep, with their identities and Flow ID strings):
        // the part of the peak that grows with the rows, which run.sh uses to project the peak to the full dataset.
        long liveBytes = GC.GetTotalMemory(forceFullCollection: true);
        long featureBytes = kept.Sum(b => b.Features.LongLength * sizeof(float));
        var report = read.Report;
        var result = new Dictionary<string, object>
        {
            ["tool"] = "stakeout",
            ["mode"] = mode,
            ["identity"] = identity,
            ["parallelism"] = parallelism == 0 ? Environment.ProcessorCount : parallelism,
            ["seconds"] = clock.Elapsed.TotalSeconds,
            ["read_cpu_seconds"] = cpu.TotalSeconds,
            ["bytes"] = read.TotalBytes,
            ["rows_read"] = report.RowsRead,
            ["rows_used"] = report.RowsUsed,
            ["rows_rejected"] = report.RowsRejected,
            ["rows_dropped"] = report.RowsDropped,
            ["balanced"] = report.IsBalanced,
            ["infinity_cells"] = report.Quirks.Where(q => q.Key.StartsWith("infinity:", StringComparison.Ordinal)).Sum(q => q.Value),
            ["nan_cells"] = report.Quirks.Where(q => q.Key.StartsWith("nan:", StringComparison.Ordinal)).Sum(q => q.Value),
            ["kept_batches"] = kept.Count,
            ["retained_bytes"] = liveBytes,
            ["feature_bytes"] = featureBytes,
            ["allocated_bytes"] = allocated,
            ["jit_seconds"] = System.Runtime.JitInfo.GetCompilationTime().TotalSeconds,
            ["jit_methods"] = System.Runtime.JitInfo.GetCompiledMethodCount(),
            ["gc_gen0"] = GC.CollectionCount(0),
            ["gc_gen2"] = GC.CollectionCount(2),
            ["peak_rss_bytes"] = peakRss,
            ["checksum"] = checksum,
        };
        GC.KeepAlive(kept);
        Console.WriteLine(JsonSerializer.Serialize(result));
        return report.IsBalanced ? 0 : 1;
    }

    /// <summary>VmHWM: the most resident memory this process ever had, as the kernel counts it.</summary>
    private static long PeakRssBytes()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                string kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }

        return -1;
    }

    /// <summary>Writes progress to stderr about every 10% of the input, as a long CLI read would show it.</summary>
    private sealed class StderrProgress(Stopwatch clock) : IProgress<ReadProgress>
    {
        private int _lastDecile = -1;

        public void Report(ReadProgress value)
        {
            int decile = value.BytesTotal == 0 ? 10 : (int)(value.BytesDone * 10 / value.BytesTotal);
            if (decile > _lastDecile)
            {
                _lastDecile = decile;
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  read: {decile * 10,3}%  {value.RowsRead,12:N0} rows  {clock.Elapsed.TotalSeconds,6:F1} s"));
            }
        }
    }
}
