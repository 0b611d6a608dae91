using BenchmarkDotNet.Attributes;
using Stakeout.Core;
using Stakeout.Models;
using Stakeout.Models.Anomaly;
using Stakeout.Training;

namespace Stakeout.Benchmarks;

/// <summary>
/// The anomaly scorer (HBOS, format 2) beside the tree scorer, on the same default model (trained on all shared data,
/// `stakeout train --labels family --seed 1`) and the same 65,536 test-split rows per operation. Baseline: the tree
/// scorer's Score on those rows, in the same run. The per-row work is one transform and one table look-up per feature.
/// Run: OMP_WAIT_POLICY=PASSIVE dotnet run -c Release --project bench/Stakeout.Benchmarks -- --filter '*AnomalyScorer*'
/// </summary>
[InProcess]
[MemoryDiagnoser]
[WarmupCount(2)]
[IterationCount(5)]
public class AnomalyScorerBenchmarks
{
    private const int Rows = 65_536;

    private IFlowScorer _scorer = null!;
    private AnomalyScorer _anomaly = null!;
    private float[] _canonical = null!;
    private float[] _probabilities = null!;
    private float[] _scores = null!;

    [GlobalSetup]
    public void Setup()
    {
        string shared = Environment.GetEnvironmentVariable("STAKEOUT_SHARED_DATA") is { Length: > 0 } env
            ? env
            : Path.GetFullPath(Path.Combine(ScorerVsMlNetBenchmarks.RepoRoot(), "..", "shared", "data"));
        var options = new TrainOptions
        {
            Paths = [Path.Combine(shared, "cicids2017-families"), Path.Combine(shared, "cicids2017")],
            Data = new TrainingDataOptions { Level = LabelLevel.Family },
            Seed = 1,
        };
        var result = new TrainingRun(new ScorerVsMlNetBenchmarks.SilentLog(), TimeProvider.System).Execute(options);
        _scorer = result.Artifact.CreateScorer();
        _anomaly = result.Artifact.AnomalyScorer ?? throw new InvalidOperationException("the default model has no anomaly model.");
        var random = new Random(1);
        var test = result.Split.Test;
        _canonical = new float[Rows * FeatureSchema.Count];
        for (int i = 0; i < Rows; i++)
        {
            result.Table.Row(test[random.Next(test.Count)]).CopyTo(_canonical.AsSpan(i * FeatureSchema.Count));
        }

        _probabilities = new float[Rows * _scorer.Classes.Count];
        _scores = new float[Rows];
        Console.WriteLine($"// anomaly model: {_anomaly.Features.Count} features, {_anomaly.Model.Bins} bins; tree model: {_scorer.Classes.Count} classes");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Rows)]
    public void TreeScorer() => _scorer.Score(_canonical, _probabilities);

    [Benchmark(OperationsPerInvoke = Rows)]
    public void TreeScorerAllCores() => _scorer.ScoreParallel(_canonical, _probabilities);

    [Benchmark(OperationsPerInvoke = Rows)]
    public void AnomalyScorer() => _anomaly.Score(_canonical, _scores);

    [Benchmark(OperationsPerInvoke = Rows)]
    public void AnomalyScorerAllCores() => _anomaly.ScoreParallel(_canonical, _scores);
}
