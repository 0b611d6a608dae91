using Stakeout.Core;
using Stakeout.Models.Scoring;

namespace Stakeout.Models;

/// <summary>
/// Scores one large batch on several cores. A scorer keeps no mutable state, so the rows are cut into one contiguous
/// chunk per thread, each a whole number of the tree scorer's 32-row blocks (so no block is split between threads and
/// the results are those of one <see cref="IFlowScorer.Score"/> call), and every chunk writes its own slice of the output.
/// </summary>
public static class ParallelScoring
{
    /// <summary>
    /// Fewer rows than this per thread are scored on the calling thread alone: waking a pool thread costs microseconds,
    /// about what a thousand rows take to score.
    /// </summary>
    public const int MinRowsPerThread = 2_048;

    /// <summary>
    /// Scores <c>features.Length / FeatureSchema.Count</c> rows like <see cref="IFlowScorer.Score"/> (same probabilities,
    /// bit for bit), on up to <paramref name="maxThreads"/> threads (0: one per processor), the calling thread included.
    /// Allocates only the fixed per-call bookkeeping of <see cref="Parallel.For(int, int, Action{int})"/> (independent of
    /// the row count), and nothing when the batch is small enough for one thread.
    /// </summary>
    /// <exception cref="ArgumentException">The buffers do not hold whole rows, or the output is too small.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxThreads"/> is negative.</exception>
    public static void ScoreParallel(this IFlowScorer scorer, ReadOnlyMemory<float> features, Memory<float> probabilities, int maxThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentOutOfRangeException.ThrowIfNegative(maxThreads);
        int classes = scorer.Classes.Count;
        int rows = ScorerShapes.Rows(features.Span, probabilities.Span, classes);
        int threads = Math.Min(maxThreads == 0 ? Environment.ProcessorCount : maxThreads, rows / MinRowsPerThread);
        if (threads <= 1)
        {
            scorer.Score(features.Span, probabilities.Span);
            return;
        }

        int blocks = (rows + TreeEnsembleScorer.BlockRows - 1) / TreeEnsembleScorer.BlockRows;
        int perThread = (blocks + threads - 1) / threads * TreeEnsembleScorer.BlockRows;
        Parallel.For(0, threads, chunk =>
        {
            int first = chunk * perThread;
            int count = Math.Min(perThread, rows - first);
            if (count <= 0)
            {
                return;
            }

            scorer.Score(
                features.Span.Slice(first * FeatureSchema.Count, count * FeatureSchema.Count),
                probabilities.Span.Slice(first * classes, count * classes));
        });
    }
}
