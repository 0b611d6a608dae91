using System.Diagnostics;
using System.Globalization;
using Stakeout.Core;

namespace Stakeout.Training;

/// <summary>One hyperparameter trial and its cross-validated scores.</summary>
/// <param name="Number">1-based trial number.</param>
/// <param name="Settings">The settings tried.</param>
/// <param name="MacroF1">Mean macro-F1 over the folds.</param>
/// <param name="MacroF1Std">Standard deviation of macro-F1 over the folds.</param>
/// <param name="BenignFpr">Mean BENIGN false-positive rate over the folds (NaN without BENIGN rows).</param>
/// <param name="Seconds">Wall time of the trial.</param>
public sealed record TuneTrial(int Number, LightGbmSettings Settings, double MacroF1, double MacroF1Std, double BenignFpr, double Seconds)
{
    /// <summary>One line for the log.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"trial {Number}: rounds {Settings.Iterations}, leaves {Settings.Leaves}, lr {Settings.LearningRate}, lambda_l2 {Settings.L2}, min_data_in_leaf {Settings.MinDataInLeaf}, {LightGbmSettings.ImbalanceName(Settings.Imbalance)} -> macro-F1 {MacroF1:F4} ± {MacroF1Std:F4}, BENIGN FPR {BenignFpr:P3} ({Seconds:F1} s)");
}

/// <summary>
/// Hyperparameter search by stratified k-fold cross-validation on the training rows only (the test split is never
/// looked at): the defaults first, then seeded random draws from a small grid, until the trials or the time budget run out.
/// </summary>
public sealed class Tuner(ITrainingLog log)
{
    private static readonly double[] L2s = [0, 0.1, 1, 10];
    private static readonly int[] MinData = [1, 5, 20, 50];
    private static readonly int[] LeafCounts = [15, 31, 63];
    private static readonly double[] Rates = [0.05, 0.1, 0.2];
    private static readonly ImbalanceHandling[] Imbalances = [ImbalanceHandling.BenignHalf, ImbalanceHandling.ClassWeights, ImbalanceHandling.BalancedWeights, ImbalanceHandling.BalancedSampling, ImbalanceHandling.None];

    /// <summary>
    /// The candidates in order: a coordinate sweep from the baseline (each imbalance handling; then, with the best so far,
    /// each lambda_l2; then each min_data_in_leaf), so the defaults' choice can be read off the log; then seeded random
    /// draws from the whole grid.
    /// </summary>
    private static IEnumerable<LightGbmSettings> Candidates(LightGbmSettings baseline, Func<LightGbmSettings> best, Random random)
    {
        foreach (var mode in Imbalances)
        {
            yield return baseline with { Imbalance = mode };
        }

        foreach (double l2 in L2s)
        {
            yield return best() with { L2 = l2 };
        }

        foreach (int minData in MinData)
        {
            yield return best() with { MinDataInLeaf = minData };
        }

        while (true)
        {
            yield return Draw(random, baseline);
        }
    }

    /// <summary>Runs the search and returns every trial, best first.</summary>
    public IReadOnlyList<TuneTrial> Search(TrainingTable table, IReadOnlyList<int> trainRows, LightGbmSettings baseline, int folds, int maxTrials, TimeSpan budget, int seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(trainRows);
        Guard.InRange(folds, 2, 20);
        Guard.Positive(maxTrials);
        var foldOf = Folds(table, trainRows, folds, seed);
        var random = new Random(seed);
        var trials = new List<TuneTrial>();
        var tried = new HashSet<LightGbmSettings>();
        var watch = Stopwatch.StartNew();
        int benign = table.Classes.ToList().IndexOf(LabelTaxonomy.Benign);
        using var candidates = Candidates(baseline, () => trials.OrderByDescending(t => t.MacroF1).First().Settings, random).GetEnumerator();
        for (int attempts = 0; trials.Count < maxTrials && watch.Elapsed < budget && attempts < maxTrials * 20 && candidates.MoveNext(); attempts++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var settings = candidates.Current;
            if (!tried.Add(settings))
            {
                continue;
            }

            var trialWatch = Stopwatch.StartNew();
            var f1s = new List<double>();
            var fprs = new List<double>();
            for (int f = 0; f < folds; f++)
            {
                var fit = trainRows.Where((_, i) => foldOf[i] != f).ToArray();
                var held = trainRows.Where((_, i) => foldOf[i] == f).ToArray();
                var (model, _, _) = LightGbmTrainer.Train(table, fit, settings, seed, cancellationToken);
                var metrics = TrainingRun.Score(new ExportedModel(model, null, table.Classes.Count), table, held, benign, 0.5, keepScores: false);
                f1s.Add(metrics.MacroF1);
                fprs.Add(metrics.BenignFpr ?? double.NaN);
            }

            double mean = f1s.Average();
            double std = Math.Sqrt(f1s.Average(v => (v - mean) * (v - mean)));
            var trial = new TuneTrial(trials.Count + 1, settings, mean, std, fprs.Average(), trialWatch.Elapsed.TotalSeconds);
            trials.Add(trial);
            log.Info(trial.Describe());
        }

        return [.. trials.OrderByDescending(t => t.MacroF1).ThenBy(t => double.IsNaN(t.BenignFpr) ? 0 : t.BenignFpr)];
    }

    private static LightGbmSettings Draw(Random random, LightGbmSettings baseline) => baseline with
    {
        L2 = L2s[random.Next(L2s.Length)],
        MinDataInLeaf = MinData[random.Next(MinData.Length)],
        Leaves = LeafCounts[random.Next(LeafCounts.Length)],
        LearningRate = Rates[random.Next(Rates.Length)],
        Imbalance = Imbalances[random.Next(Imbalances.Length)],
    };

    /// <summary>Stratified fold number of each training row (index into <paramref name="rows"/>).</summary>
    internal static int[] Folds(TrainingTable table, IReadOnlyList<int> rows, int folds, int seed)
    {
        var random = new Random(seed);
        var foldOf = new int[rows.Count];
        foreach (var group in Enumerable.Range(0, rows.Count).GroupBy(i => table.Label(rows[i])))
        {
            var members = group.ToArray();
            random.Shuffle(members);
            for (int j = 0; j < members.Length; j++)
            {
                foldOf[members[j]] = j % folds;
            }
        }

        return foldOf;
    }
}
