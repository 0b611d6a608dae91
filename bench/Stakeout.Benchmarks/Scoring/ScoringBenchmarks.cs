using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Stakeout.Core;
using Stakeout.Models;

namespace Stakeout.Benchmarks.Scoring;

/// <summary>
/// Rows per second of the compiled scorer against a node-object tree walk, on 100,000 real rows (ScoringData), one
/// thread and two. Each operation is one row (OperationsPerInvoke), so BenchmarkDotNet's "Mean" is the time per row.
/// Run: dotnet run -c Release --project bench/Stakeout.Benchmarks -- --filter '*ScoringBenchmarks*'
/// Partial so a peer (ML.NET PredictionEngine or Transform on the same rows) can be added in its own file as more
/// [Benchmark] methods with OperationsPerInvoke = <see cref="ScoringData.RowCount"/>: it then appears in the same table,
/// with its ratio to the same baseline.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public partial class ScoringBenchmarks
{
    private const int Rows = ScoringData.RowCount;
    private float[] _rows = [];
    private float[] _probabilities = [];
    private IFlowScorer _fast = null!;
    private NaiveTreeScorer _naive = null!;

    [GlobalSetup]
    public void Setup()
    {
        _rows = ScoringData.Rows;
        _probabilities = new float[Rows * ScoringData.Classes];
        _fast = ScoringData.Artifact().CreateScorer();
        _naive = new NaiveTreeScorer(ScoringData.ModelText, Enumerable.Range(0, FeatureSchema.Count).ToArray());

        // Same answers, or the comparison means nothing.
        var a = new float[1000 * ScoringData.Classes];
        var b = new float[1000 * ScoringData.Classes];
        _fast.Score(_rows.AsSpan(0, 1000 * FeatureSchema.Count), a);
        _naive.Score(_rows.AsSpan(0, 1000 * FeatureSchema.Count), b);
        if (!a.AsSpan().SequenceEqual(b))
        {
            throw new InvalidOperationException("the naive and the compiled scorer disagree; the benchmark would compare different work.");
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Rows, Description = "node objects, 1 thread")]
    public void NaiveOneThread() => _naive.Score(_rows, _probabilities);

    [Benchmark(OperationsPerInvoke = Rows, Description = "compiled, 1 thread")]
    public void CompiledOneThread() => _fast.Score(_rows, _probabilities);

    [Benchmark(OperationsPerInvoke = Rows, Description = "node objects, 2 threads")]
    public void NaiveTwoThreads() => Parallel.For(0, 2, Options, half => _naive.Score(Half(_rows, half, FeatureSchema.Count), Half(_probabilities, half, ScoringData.Classes)));

    [Benchmark(OperationsPerInvoke = Rows, Description = "compiled, 2 threads")]
    public void CompiledTwoThreads() => Parallel.For(0, 2, Options, half => _fast.Score(Half(_rows, half, FeatureSchema.Count), Half(_probabilities, half, ScoringData.Classes)));

    private static readonly ParallelOptions Options = new() { MaxDegreeOfParallelism = 2 };

    /// <summary>In-process: on a shared 2-core machine the separate benchmark build alone can exceed BenchmarkDotNet's timeout.</summary>
    public sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(6).WithToolchain(InProcessEmitToolchain.Instance));
    }

    private static Span<float> Half(float[] data, int half, int width) => data.AsSpan(half * (Rows / 2) * width, Rows / 2 * width);
}
