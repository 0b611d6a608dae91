using System.Buffers;
using System.Diagnostics;
using Stakeout.Core;
using Stakeout.Ingest;
using Stakeout.Models;

namespace Stakeout.Evaluation;

/// <summary>Options of <see cref="ModelEvaluator"/>, validated once by <see cref="Validate"/>.</summary>
public sealed record EvaluationOptions
{
    /// <summary>Attack-score threshold; null keeps the model's own (manifest <c>threshold</c>).</summary>
    public double? Threshold { get; init; }

    /// <summary>Drop exact duplicate rows (same features and label, across files) before scoring. Off by default: every row given is scored.</summary>
    public bool Dedupe { get; init; }

    /// <summary>Compare at this level instead of the finest shared one (it must not be finer).</summary>
    public LabelLevel? Level { get; init; }

    /// <summary>Compute PR-AUC (keeps 4 bytes per model class per row in memory).</summary>
    public bool PrAuc { get; init; } = true;

    /// <summary>Labels compared as one (<c>--merge-labels DDoS=DoS</c>), for data labelled by another taxonomy.</summary>
    public LabelMerges Merges { get; init; } = LabelMerges.None;
    /// <summary>Also compute PR, ROC and threshold curves (<see cref="EvaluationReport.Curves"/>); needs <see cref="PrAuc"/>.</summary>
    public bool Curves { get; init; }

    /// <summary>Threads scoring a batch at once; 0 means one per processor.</summary>
    public int ScoringThreads { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public EvaluationOptions Validate()
    {
        if (Threshold is { } t && !(t >= 0 && t <= 1))
        {
            throw new ArgumentException($"Threshold must be between 0 and 1; it was {t}.", nameof(Threshold));
        }

        if (ScoringThreads is < 0 or > 256)
        {
            throw new ArgumentException($"ScoringThreads must be between 0 and 256; it was {ScoringThreads}.", nameof(ScoringThreads));
        }

        if (Curves && !PrAuc)
        {
            throw new ArgumentException("Curves need the probabilities that PrAuc keeps; PrAuc is off.", nameof(Curves));
        }

        return this;
    }
}

/// <summary>
/// Streams labelled flow data through a model's scorer and measures it: files are read in batches (never whole), each
/// batch scored and tallied, then dropped. Every row read and used is scored.
/// </summary>
public sealed class ModelEvaluator
{
    private const int SliceRows = 2048;

    private readonly IFlowScorer _scorer;
    private readonly string? _modelSha256;
    private readonly EvaluationOptions _options;

    /// <summary>Creates an evaluator for a compiled model.</summary>
    /// <param name="scorer">The model's scorer.</param>
    /// <param name="modelSha256">The artifact's SHA-256, for the report.</param>
    /// <param name="options">Options; validated here.</param>
    public ModelEvaluator(IFlowScorer scorer, string? modelSha256, EvaluationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        _scorer = scorer;
        _modelSha256 = modelSha256;
        _options = (options ?? new EvaluationOptions()).Validate();
    }

    /// <summary>
    /// The reader options an evaluation needs: every file labelled and holding every feature the model uses (a file that
    /// lacks one fails with a <see cref="FlowDataException"/> naming the file and the features), values kept as written
    /// (the scorer applies the model's own non-finite policy). Identity columns are skipped: metrics do not need them,
    /// and a malformed address or timestamp must not keep a row with good features and a label from being scored.
    /// </summary>
    public FlowReaderOptions ReaderOptions() => new()
    {
        ReadIdentity = false,
        RequireLabel = true,
        RequiredFeatures = [.. _scorer.Manifest.Features.Select(f => f.Index).Distinct()],
        Duplicates = _options.Dedupe ? DuplicatePolicy.Drop : DuplicatePolicy.Ignore,
        NonFinite = NonFinitePolicy.Keep,
    };

    /// <summary>Reads, scores and measures <paramref name="paths"/> (files or directories, any layout the reader knows).</summary>
    public EvaluationReport Evaluate(IEnumerable<string> paths, IProgress<ReadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var read = new FlowCsvReader(ReaderOptions()).Open(paths);
        return Evaluate(read, progress, cancellationToken);
    }

    /// <summary>Scores and measures an opened read (opened with <see cref="ReaderOptions"/> or equivalent).</summary>
    public EvaluationReport Evaluate(FlowRead read, IProgress<ReadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(read);
        var clock = Stopwatch.StartNew();
        var manifest = _scorer.Manifest;
        var modelLevel = EvaluationLevels.Parse(manifest.LabelLevel);
        double threshold = _options.Threshold ?? manifest.Threshold;
        var accumulator = new EvaluationAccumulator(_scorer.Classes, modelLevel, _scorer.BenignClassIndex, threshold, _options.PrAuc, _options.Merges);
        int classes = _scorer.Classes.Count;
        int threads = _options.ScoringThreads == 0 ? Environment.ProcessorCount : _options.ScoringThreads;
        float[] probabilities = [];
        try
        {
            foreach (var batch in read.ReadBatches(progress, cancellationToken))
            {
                int rows = batch.Count;
                if (probabilities.Length < rows * classes)
                {
                    ArrayPool<float>.Shared.Return(probabilities);
                    probabilities = ArrayPool<float>.Shared.Rent(rows * classes);
                }

                Score(batch, probabilities, classes, threads, cancellationToken);
                accumulator.AddBatch(batch.LabelIds.AsSpan(0, rows), read.Labels.Snapshot(), probabilities.AsSpan(0, rows * classes));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(probabilities);
        }

        var metrics = accumulator.Compute(_options.Level);
        clock.Stop();
        return new EvaluationReport(metrics)
        {
            ModelLevel = modelLevel,
            DataLevel = accumulator.DataLevel,
            ModelSha256 = _modelSha256,
            ModelKind = manifest.ModelKind,
            Files = read.Report.Files,
            Reading = ReadAccounting.From(read.Report),
            Curves = _options.Curves ? accumulator.ComputeCurves(_options.Level) : null,
            ElapsedSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3),
        };
    }

    private void Score(FlowBatch batch, float[] probabilities, int classes, int threads, CancellationToken cancellationToken)
    {
        int rows = batch.Count;
        int slices = (rows + SliceRows - 1) / SliceRows;
        if (threads <= 1 || slices <= 1)
        {
            _scorer.Score(batch.Features.AsSpan(0, rows * FeatureSchema.Count), probabilities.AsSpan(0, rows * classes));
            return;
        }

        // The scorer is thread-safe and allocation-free; the reader parses the next chunks meanwhile.
        Parallel.For(0, slices, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken }, s =>
        {
            int first = s * SliceRows;
            int count = Math.Min(SliceRows, rows - first);
            _scorer.Score(
                batch.Features.AsSpan(first * FeatureSchema.Count, count * FeatureSchema.Count),
                probabilities.AsSpan(first * classes, count * classes));
        });
    }
}
