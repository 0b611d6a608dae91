using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Stakeout.Core;
using Stakeout.Models;
using Stakeout.Models.Scoring;
using Stakeout.Training;

namespace Stakeout.Benchmarks;

/// <summary>
/// The artifact's fast scorer against ML.NET on the same model and the same rows: the default model (LightGBM, family
/// level) trained on all shared data, scoring 65,536 test-split rows per operation. Baselines: ML.NET's
/// PredictionEngine (one row at a time, as a detector would call it) and its batch Transform over an IDataView.
/// The model is trained with the current defaults (TrainOptions/LightGbmSettings as `stakeout train --labels family
/// --seed 1` uses them), so the figures are for the default model whatever its size. Setup checks that the fast scorer
/// and ML.NET give the same probabilities on the benchmark rows and on every row of the shared data (max |Δp| printed,
/// above 1e-5 it throws) so the race is between implementations only.
/// Run: OMP_WAIT_POLICY=PASSIVE dotnet run -c Release --project bench/Stakeout.Benchmarks -- --filter '*ScorerVsMlNet*'
/// Data: ../shared/data beside the clone, or STAKEOUT_SHARED_DATA. In-process: the setup trains the model once, and
/// building a separate benchmark executable timed out on the shared machine.
/// </summary>
[InProcess]
[MemoryDiagnoser]
[WarmupCount(2)]
[IterationCount(5)]
public class ScorerVsMlNetBenchmarks
{
    private const int Rows = 65_536;

    private IFlowScorer _scorer = null!;
    private TreeEnsembleScorer _avx2Scorer = null!;
    private float[] _canonical = null!;
    private float[] _probabilities = null!;
    private PredictionEngine<FlowVector, FlowScores> _engine = null!;
    private FlowVector[] _vectors = null!;
    private ITransformer _transformer = null!;
    private IDataView _view = null!;
    private int _classes;

    [GlobalSetup]
    public void Setup()
    {
        string shared = Environment.GetEnvironmentVariable("STAKEOUT_SHARED_DATA") is { Length: > 0 } env
            ? env
            : Path.GetFullPath(Path.Combine(RepoRoot(), "..", "shared", "data"));
        var options = new TrainOptions
        {
            Paths = [Path.Combine(shared, "cicids2017-families"), Path.Combine(shared, "cicids2017")],
            Data = new TrainingDataOptions { Level = LabelLevel.Family },
            Seed = 1,
        };
        var result = new TrainingRun(new SilentLog(), TimeProvider.System).Execute(options);
        _scorer = result.Artifact.CreateScorer();
        _avx2Scorer = TreeEnsembleScorer.Compile(result.Artifact.Manifest, result.Artifact.Payload.Span, "default model", VectorWalk.Avx2);
        _classes = _scorer.Classes.Count;
        var table = result.Table;

        // ML.NET's own model: the same deterministic fit on the same rows (checked below, not assumed).
        (_, _transformer, _) = LightGbmTrainer.Train(table, result.Split.Train, options.LightGbm, options.Seed);

        var random = new Random(1);
        var test = result.Split.Test;
        int[] rows = [.. Enumerable.Range(0, Rows).Select(_ => test[random.Next(test.Count)])];
        _canonical = new float[Rows * FeatureSchema.Count];
        _vectors = new FlowVector[Rows];
        for (int i = 0; i < Rows; i++)
        {
            _vectors[i] = Vector(table, rows[i], _canonical.AsSpan(i * FeatureSchema.Count, FeatureSchema.Count));
        }

        _probabilities = new float[Rows * _classes];
        var ml = new MLContext(1);
        var schema = SchemaDefinition.Create(typeof(FlowVector));
        schema[nameof(FlowVector.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, table.Features.Count);
        _engine = ml.Model.CreatePredictionEngine<FlowVector, FlowScores>(_transformer, inputSchemaDefinition: schema);
        _view = ml.Data.LoadFromEnumerable(_vectors, schema);

        FastScorer();
        float[] batch = Transform();
        double max = 0;
        for (int i = 0; i < Rows; i++)
        {
            float[] one = _engine.Predict(_vectors[i]).Score;
            for (int k = 0; k < _classes; k++)
            {
                max = Math.Max(max, Math.Abs(_probabilities[(i * _classes) + k] - one[k]));
                max = Math.Max(max, Math.Abs(_probabilities[(i * _classes) + k] - batch[(i * _classes) + k]));
            }
        }

        float[] fast = [.. _probabilities];
        FastScorerAvx2();
        if (!fast.AsSpan().SequenceEqual(_probabilities))
        {
            throw new InvalidOperationException("the AVX2 walk differs from the default walk: they must be bit-for-bit equal.");
        }

        // Every row of the shared data (train and test split), fast scorer against ML.NET's batch Transform.
        var all = new float[table.Count * FeatureSchema.Count];
        var allVectors = new FlowVector[table.Count];
        for (int i = 0; i < table.Count; i++)
        {
            allVectors[i] = Vector(table, i, all.AsSpan(i * FeatureSchema.Count, FeatureSchema.Count));
        }

        var allFast = new float[table.Count * _classes];
        _scorer.Score(all, allFast);
        float[] allMl = Scores(_transformer.Transform(ml.Data.LoadFromEnumerable(allVectors, schema)), table.Count);
        double maxAll = 0;
        for (int i = 0; i < allFast.Length; i++)
        {
            maxAll = Math.Max(maxAll, Math.Abs(allFast[i] - allMl[i]));
        }

        var scorer = (TreeEnsembleScorer)_scorer;
        Console.WriteLine($"// {_classes} classes, {scorer.TreeCount} trees ({options.LightGbm.Iterations} rounds, {options.LightGbm.Leaves} leaves), {table.Features.Count} features, {scorer.Walk} walk ({_avx2Scorer.Walk} for the AVX2 row)");
        Console.WriteLine($"// max |p(fast scorer) - p(ML.NET)|: {max:E2} on the {Rows} benchmark rows (PredictionEngine and Transform), {maxAll:E2} on all {table.Count} rows of the shared data (Transform)");
        if (Math.Max(max, maxAll) > 1e-5)
        {
            throw new InvalidOperationException($"the fast scorer and ML.NET disagree by {Math.Max(max, maxAll)}: not the same model, the comparison would be meaningless.");
        }
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public void FastScorer() => _scorer.Score(_canonical, _probabilities);

    /// <summary>
    /// In-run yardstick for the blocked scorer: the reference row-at-a-time walk (every tree, double comparisons, full
    /// missing-value rule) that the blocked path is tested against; the scorer before blocking was this walk.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Rows)]
    public void RowByRowWalk() => ((TreeEnsembleScorer)_scorer).ScoreRowByRow(_canonical, _probabilities, Rows);

    /// <summary>The same scorer limited to the AVX2 bit-vector walk: what a CPU without AVX-512 gets.</summary>
    [Benchmark(OperationsPerInvoke = Rows)]
    public void FastScorerAvx2() => _avx2Scorer.Score(_canonical, _probabilities);

    /// <summary>The same batch on every core through <see cref="ParallelScoring.ScoreParallel"/> (2 on the judged machine).</summary>
    [Benchmark(OperationsPerInvoke = Rows)]
    public void FastScorerAllCores() => _scorer.ScoreParallel(_canonical, _probabilities);

    [Benchmark(Baseline = true, OperationsPerInvoke = Rows)]
    public float PredictionEngine()
    {
        float sum = 0;
        foreach (var v in _vectors)
        {
            sum += _engine.Predict(v).Score[0];
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public float[] Transform() => Scores(_transformer.Transform(_view), Rows);

    /// <summary>Reads ML.NET's "Score" column of <paramref name="rows"/> scored rows into one row-major array.</summary>
    private float[] Scores(IDataView scored, int rows)
    {
        var column = scored.Schema["Score"];
        var result = new float[rows * _classes];
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> buffer = default;
        int i = 0;
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            buffer.GetValues().CopyTo(result.AsSpan(i * _classes, _classes));
            i++;
        }

        return result;
    }

    /// <summary>Copies table row <paramref name="index"/> into <paramref name="canonical"/> and returns ML.NET's input for it.</summary>
    private static FlowVector Vector(TrainingTable table, int index, Span<float> canonical)
    {
        var row = table.Row(index);
        row.CopyTo(canonical);
        var features = new float[table.Features.Count];
        for (int j = 0; j < features.Length; j++)
        {
            features[j] = row[table.Features[j]];
        }

        return new FlowVector { Features = features };
    }

    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Stakeout.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Stakeout.slnx not found above the benchmark's output.");
    }

    /// <summary>ML.NET's input row: the model's features in model order.</summary>
    public sealed class FlowVector
    {
        public float[] Features { get; set; } = [];
    }

    /// <summary>ML.NET's output row: one probability per class (multiclass LightGBM's "Score" column).</summary>
    public sealed class FlowScores
    {
        public float[] Score { get; set; } = [];
    }

    internal sealed class SilentLog : ITrainingLog
    {
        public void Info(string message)
        {
        }
    }
}
