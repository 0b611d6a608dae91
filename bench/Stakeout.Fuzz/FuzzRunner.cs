using System.Diagnostics;
using System.Globalization;

namespace Stakeout.Fuzz;

/// <summary>Counts of one target's run.</summary>
internal sealed record FuzzReport(string Target, long Inputs, long Accepted, long Refused, IReadOnlyList<string> Findings, TimeSpan Elapsed, long MaxAllocatedBytes, TimeSpan SlowestInput)
{
    public double InputsPerSecond => Inputs / Math.Max(Elapsed.TotalSeconds, 1e-9);

    public string Line() => string.Create(CultureInfo.InvariantCulture,
        $"fuzz {Target,-18} inputs {Inputs,9:N0}  accepted {Accepted,9:N0}  refused {Refused,9:N0}  findings {Findings.Count}  {InputsPerSecond,8:N0}/s  slowest {SlowestInput.TotalMilliseconds:0} ms  most allocated {MaxAllocatedBytes / 1048576.0:0.0} MiB");
}

/// <summary>
/// Runs a target over seeded mutations. A finding is any exception other than the parser's own refusal, a broken
/// invariant, an input slower than the hang limit, or one that allocates more than the allocation limit. Each finding's
/// input is saved with its seed and case, so it replays and becomes a regression test.
/// </summary>
internal sealed class FuzzRunner(TimeSpan hangLimit, long allocationLimit, string findingsDir)
{
    public FuzzReport Run(FuzzTarget target, IReadOnlyList<byte[]> corpus, int seed, long inputs, Action<string>? progress = null)
    {
        if (corpus.Count == 0)
        {
            throw new InvalidOperationException($"{target.Name}: no seed files were found; point --shared-data at ../shared/data.");
        }

        var mutator = new Mutator(corpus, target.Tokens, target.MaxBytes);
        var findings = new List<string>();
        long accepted = 0, refused = 0, maxAllocated = 0;
        var slowest = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        long current = -1, currentStart = 0;
        byte[] currentInput = [];
        // A true hang never returns to the per-input check: a watchdog saves the input and ends the run.
        using var watchdog = new Timer(_ =>
        {
            long started = Interlocked.Read(ref currentStart);
            if (started != 0 && Stopwatch.GetElapsedTime(started) > hangLimit * 10)
            {
                string name = string.Create(CultureInfo.InvariantCulture, $"{target.Name}-{seed}-{Interlocked.Read(ref current)}.bin");
                Directory.CreateDirectory(findingsDir);
                File.WriteAllBytes(Path.Combine(findingsDir, name), Volatile.Read(ref currentInput));
                Console.WriteLine($"fuzz {target.Name}: HANG on {name} (over {(hangLimit * 10).TotalSeconds:0} s); input saved in {findingsDir}");
                Environment.Exit(1);
            }
        }, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        // Seeds run unmutated first: a parser that fails on its own corpus is a finding too.
        for (long i = 0; i < inputs + corpus.Count; i++)
        {
            byte[] input = i < corpus.Count ? corpus[(int)i] : mutator.Next(new Random(InputSeed(seed, i)));
            long before = GC.GetTotalAllocatedBytes(precise: false);
            var started = Stopwatch.GetTimestamp();
            Volatile.Write(ref currentInput, input);
            Interlocked.Exchange(ref current, i);
            Interlocked.Exchange(ref currentStart, started);
            string? finding = null;
            try
            {
                if (target.Run(input) == Outcome.Accepted)
                {
                    accepted++;
                }
                else
                {
                    refused++;
                }
            }
            catch (Exception ex)
            {
                finding = $"{ex.GetType().Name}: {ex.Message.Split('\n')[0]}";
            }

            Interlocked.Exchange(ref currentStart, 0);
            var took = Stopwatch.GetElapsedTime(started);
            long allocated = GC.GetTotalAllocatedBytes(precise: false) - before;
            slowest = took > slowest ? took : slowest;
            maxAllocated = Math.Max(maxAllocated, allocated);
            if (finding is null && took > hangLimit)
            {
                finding = $"slow: {took.TotalMilliseconds:0} ms on {input.Length:N0} bytes";
            }

            if (finding is null && allocated > allocationLimit)
            {
                finding = $"allocation: {allocated:N0} bytes for {input.Length:N0} input bytes";
            }

            if (finding is not null)
            {
                string name = string.Create(CultureInfo.InvariantCulture, $"{target.Name}-{seed}-{i}.bin");
                Directory.CreateDirectory(findingsDir);
                File.WriteAllBytes(Path.Combine(findingsDir, name), input);
                findings.Add($"{name}: {finding}");
                if (findings.Count >= 20)
                {
                    break; // enough to act on; the rest are probably the same defect
                }
            }

            if (progress is not null && i % 10_000 == 0 && i > 0)
            {
                progress(string.Create(CultureInfo.InvariantCulture, $"  {target.Name}: {i:N0} inputs, {findings.Count} findings, {i / clock.Elapsed.TotalSeconds:N0}/s"));
            }
        }

        return new FuzzReport(target.Name, accepted + refused, accepted, refused, findings, clock.Elapsed, maxAllocated, slowest);
    }

    /// <summary>
    /// The random seed of input <paramref name="i"/> under run seed <paramref name="seed"/>: the same in every process
    /// (SplitMix64), so one --seed gives the same inputs run after run. HashCode.Combine, used before, is randomised
    /// per process, so no two runs of one seed fuzzed the same inputs.
    /// </summary>
    internal static int InputSeed(int seed, long i)
    {
        unchecked
        {
            ulong z = ((ulong)(uint)seed << 32) ^ (ulong)i;
            z += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return (int)(z ^ (z >> 31));
        }
    }
}
