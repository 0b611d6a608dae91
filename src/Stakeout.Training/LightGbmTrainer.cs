using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using Stakeout.Core;

namespace Stakeout.Training;

/// <summary>How rare classes are given their say.</summary>
public enum ImbalanceHandling
{
    /// <summary>Every row weighs 1.</summary>
    None,
    /// <summary>Row weight = sqrt(N / (K × n_class)): rare classes count more, without letting 36 rows outweigh 10,000.</summary>
    ClassWeights,
    /// <summary>Every class resampled (seeded) to the mean class size: rare classes repeated, large ones thinned.</summary>
    BalancedSampling,
    /// <summary>Row weight = N / (K × n_class) (scikit-learn's "balanced"): every class weighs the same in all.</summary>
    BalancedWeights,
    /// <summary>
    /// BENIGN weighs half of all (N / (2 × n_BENIGN)) and the attack classes share the other half equally
    /// (N / (2 × (K − 1) × n_class)): attacks stay balanced among themselves, while benign traffic, most of what a sensor
    /// sees, is not outvoted K − 1 to 1 by the attack classes.
    /// </summary>
    BenignHalf,
}

/// <summary>LightGBM hyperparameters, validated once. Defaults were chosen by measurement (docs/training.md).</summary>
public sealed record LightGbmSettings
{
    /// <summary>
    /// Boosting rounds; with early stopping, the most rounds allowed. 60: test macro-F1 was flat from 30 to 200 rounds on
    /// both shared data sets, and 60 rounds of 7 classes are 420 trees instead of 1,400 (docs/training.md, "Model size").
    /// </summary>
    public int Iterations { get; init; } = 60;

    /// <summary>
    /// Early stopping: boosting stops when the validation log-loss (on a slice of the training split) has not improved for
    /// this many rounds, and the model keeps the best round. 0 (the default) turns it off: exactly <see cref="Iterations"/>
    /// rounds. Off by default because on the shared data the log-loss optimum (round 22 on all of it) cost 0.026 macro-F1
    /// against 60 fixed rounds (docs/training.md, "Model size").
    /// </summary>
    public int EarlyStoppingRounds { get; init; }

    /// <summary>Share of the training split held out (stratified) as the early-stopping validation slice.</summary>
    public double ValidationFraction { get; init; } = 0.1;

    /// <summary>Shrinkage per round.</summary>
    public double LearningRate { get; init; } = 0.1;

    /// <summary>Leaves per tree.</summary>
    public int Leaves { get; init; } = 31;

    /// <summary>LightGBM min_data_in_leaf.</summary>
    public int MinDataInLeaf { get; init; } = 20;

    /// <summary>LightGBM lambda_l2: without it boosting diverged on the rare classes of this data.</summary>
    public double L2 { get; init; } = 1.0;

    /// <summary>LightGBM max_bin.</summary>
    public int MaxBin { get; init; } = 255;

    /// <summary>
    /// LightGBM feature_fraction: the share of features each tree may split on (drawn afresh per tree, seeded). Below 1 it
    /// cuts histogram work in proportion and decorrelates the trees.
    /// </summary>
    public double FeatureFraction { get; init; } = 1.0;

    /// <summary>
    /// LightGBM bagging_fraction: the share of training rows each round is fitted on (drawn afresh every round, seeded);
    /// 1 fits every row.
    /// </summary>
    public double BaggingFraction { get; init; } = 1.0;

    /// <summary>
    /// Class imbalance handling. BENIGN-half, not balanced weights: on benign flows of files never trained on it flagged
    /// 1.0 % and 5.3 % against 3.5 % and 8.0 %, at the same attack recall, for 0.003 less mean macro-F1 on the families
    /// sample (docs/training.md, "Class weights").
    /// </summary>
    public ImbalanceHandling Imbalance { get; init; } = ImbalanceHandling.BenignHalf;

    /// <summary>Threads; 0 (the default) chooses by table size: see <see cref="ThreadsFor"/>.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// Below this many training rows, <see cref="Threads"/> = 0 trains on one thread. On the 3,707-row families split,
    /// LightGBM's per-tree work is too short to share: two threads took 1.2 s against 0.32 s for one with passive OpenMP
    /// waiting, and 0.2 to 7 s with spinning waits when another process held the second core (docs/training.md,
    /// "Threads").
    /// </summary>
    public const int SingleThreadBelowRows = 50_000;

    /// <summary>The threads LightGBM gets for <paramref name="rows"/> training rows.</summary>
    public int ThreadsFor(int rows) => Threads > 0 ? Threads : rows < SingleThreadBelowRows ? 1 : Environment.ProcessorCount;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public LightGbmSettings Validate()
    {
        Check(Iterations is >= 1 and <= 100_000, nameof(Iterations), Iterations);
        Check(LearningRate is > 0 and <= 1, nameof(LearningRate), LearningRate);
        Check(Leaves is >= 2 and <= 131_072, nameof(Leaves), Leaves);
        Check(MinDataInLeaf >= 1, nameof(MinDataInLeaf), MinDataInLeaf);
        Check(L2 >= 0 && double.IsFinite(L2), nameof(L2), L2);
        Check(MaxBin is >= 2 and <= 65_535, nameof(MaxBin), MaxBin);
        Check(FeatureFraction is > 0 and <= 1, nameof(FeatureFraction), FeatureFraction);
        Check(BaggingFraction is > 0 and <= 1, nameof(BaggingFraction), BaggingFraction);
        Check(Enum.IsDefined(Imbalance), nameof(Imbalance), Imbalance);
        Check(Threads >= 0, nameof(Threads), Threads);
        Check(EarlyStoppingRounds >= 0, nameof(EarlyStoppingRounds), EarlyStoppingRounds);
        Check(ValidationFraction is > 0 and < 1, nameof(ValidationFraction), ValidationFraction);
        return this;
    }

    /// <summary>The settings as manifest hyperparameters.</summary>
    public Dictionary<string, string> ToDictionary() => new(StringComparer.Ordinal)
    {
        ["num_iterations"] = Iterations.ToString(CultureInfo.InvariantCulture),
        ["learning_rate"] = LearningRate.ToString("R", CultureInfo.InvariantCulture),
        ["num_leaves"] = Leaves.ToString(CultureInfo.InvariantCulture),
        ["min_data_in_leaf"] = MinDataInLeaf.ToString(CultureInfo.InvariantCulture),
        ["lambda_l2"] = L2.ToString("R", CultureInfo.InvariantCulture),
        ["max_bin"] = MaxBin.ToString(CultureInfo.InvariantCulture),
        ["feature_fraction"] = FeatureFraction.ToString("R", CultureInfo.InvariantCulture),
        ["bagging_fraction"] = BaggingFraction.ToString("R", CultureInfo.InvariantCulture),
        ["imbalance"] = ImbalanceName(Imbalance),
    };

    /// <summary>Each imbalance handling's name in the manifest and on the command line, the default first.</summary>
    private static readonly (ImbalanceHandling Mode, string Name)[] ImbalanceNames =
    [
        (ImbalanceHandling.BenignHalf, "benign-half"),
        (ImbalanceHandling.BalancedWeights, "balanced-weights"),
        (ImbalanceHandling.ClassWeights, "class-weights"),
        (ImbalanceHandling.BalancedSampling, "balanced-sampling"),
        (ImbalanceHandling.None, "none"),
    ];

    /// <summary>The name <paramref name="mode"/> has in the manifest and on the command line.</summary>
    public static string ImbalanceName(ImbalanceHandling mode) => Array.Find(ImbalanceNames, n => n.Mode == mode).Name
        ?? throw new ArgumentOutOfRangeException(nameof(mode), mode, "not an imbalance handling.");

    /// <summary>The imbalance handling named as in the manifest and on the command line (e.g. <c>benign-half</c>).</summary>
    /// <exception cref="ArgumentException">The name is not one of them.</exception>
    public static ImbalanceHandling ParseImbalance(string name) =>
        Array.Find(ImbalanceNames, n => n.Name == name) is { Name: not null } found
            ? found.Mode
            : throw new ArgumentException($"imbalance '{name}' is not one of {string.Join(", ", ImbalanceNames.Select(n => n.Name))}.", nameof(name));

    private static void Check(bool ok, string name, object value)
    {
        if (!ok)
        {
            throw new ArgumentException($"{name} = {value} is out of range.", name);
        }
    }
}

/// <summary>
/// Trains LightGBM (multiclass, or binary for two classes) through ML.NET on rows of a <see cref="TrainingTable"/>, and
/// reads the trained trees back out as a <see cref="GbdtModel"/>.
/// </summary>
internal static class LightGbmTrainer
{
    /// <summary>Sigmoid of ML.NET's binary LightGBM (its default); p = 1 / (1 + exp(-sigmoid × raw)).</summary>
    public const double BinarySigmoid = 0.5;

    /// <summary>Trains exactly <see cref="LightGbmSettings.Iterations"/> rounds on <paramref name="rows"/> (early stopping is the caller's: <see cref="TrainingRun"/>).</summary>
    public static (GbdtModel Model, ITransformer Transformer, IReadOnlyList<int> TrainedRows) Train(
        TrainingTable table, IReadOnlyList<int> rows, LightGbmSettings settings, int seed, CancellationToken cancellationToken = default)
    {
        settings.Validate();
        var ml = new MLContext(seed);
        cancellationToken.ThrowIfCancellationRequested();
        var (trainRows, weights) = Balance(table, rows, settings.Imbalance, seed);
        bool binary = table.Classes.Count == 2;
        var view = new TableDataView(table, trainRows, table.Features, weights, booleanLabel: binary);
        var booster = new GradientBooster.Options
        {
            L2Regularization = settings.L2,
            FeatureFraction = settings.FeatureFraction,
            SubsampleFraction = settings.BaggingFraction,
            SubsampleFrequency = settings.BaggingFraction < 1 ? 1 : 0,
        };
        int threads = settings.ThreadsFor(rows.Count);
        ITransformer transformer;
        List<List<RegressionTree>> perClass;
        List<double> biases;
        double sigmoid = BinarySigmoid;
        if (binary)
        {
            var trainer = ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
            {
                NumberOfIterations = settings.Iterations,
                LearningRate = settings.LearningRate,
                NumberOfLeaves = settings.Leaves,
                MinimumExampleCountPerLeaf = settings.MinDataInLeaf,
                MaximumBinCountPerFeature = settings.MaxBin,
                Booster = booster,
                Seed = seed,
                Deterministic = true,
                NumberOfThreads = threads,
                Silent = true,
                Sigmoid = BinarySigmoid,
                LabelColumnName = TableDataView.LabelColumn,
                FeatureColumnName = TableDataView.FeaturesColumn,
                ExampleWeightColumnName = TableDataView.WeightColumn,
            });
            var fitted = trainer.Fit(view);
            transformer = fitted;
            var calibrated = fitted.Model;
            if (calibrated.Calibrator.Offset != 0)
            {
                throw new InvalidOperationException($"ML.NET's binary LightGBM calibrator has offset {calibrated.Calibrator.Offset}; the exporter expects 0.");
            }

            sigmoid = -calibrated.Calibrator.Slope;
            var ensemble = calibrated.SubModel.TrainedTreeEnsemble;
            perClass = [[.. ensemble.Trees]];
            biases = [ensemble.Bias];
            CheckWeights(ensemble.TreeWeights);
        }
        else
        {
            var trainer = ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options
            {
                NumberOfIterations = settings.Iterations,
                LearningRate = settings.LearningRate,
                NumberOfLeaves = settings.Leaves,
                MinimumExampleCountPerLeaf = settings.MinDataInLeaf,
                MaximumBinCountPerFeature = settings.MaxBin,
                Booster = booster,
                Seed = seed,
                Deterministic = true,
                NumberOfThreads = threads,
                Silent = true,
                UseSoftmax = true,
                LabelColumnName = TableDataView.LabelColumn,
                FeatureColumnName = TableDataView.FeaturesColumn,
                ExampleWeightColumnName = TableDataView.WeightColumn,
            });
            var fitted = trainer.Fit(view);
            transformer = fitted;
            perClass = [];
            biases = [];
            foreach (var ensemble in SubEnsembles(fitted.Model))
            {
                var trees = ensemble.Trees.ToList();
                CheckWeights(ensemble.TreeWeights);
                perClass.Add(trees);
                biases.Add(ensemble.Bias);
            }

            if (perClass.Count != table.Classes.Count)
            {
                throw new InvalidOperationException($"ML.NET returned {perClass.Count} class models for {table.Classes.Count} classes.");
            }
        }

        var model = Assemble(perClass, biases, binary, sigmoid, table, trainRows);
        return (model, transformer, trainRows);
    }

    /// <summary>
    /// The per-class tree ensembles of ML.NET's multiclass LightGBM. ML.NET keeps them in a private member of
    /// OneVersusAllModelParameters (there is no public accessor in 5.0), so this is the one reflective read in Stakeout;
    /// the exporter tests compare the exported model with ML.NET's own predictions, so a change here cannot pass unseen.
    /// </summary>
    private static IEnumerable<RegressionTreeEnsemble> SubEnsembles(OneVersusAllModelParameters ova)
    {
        var property = typeof(OneVersusAllModelParameters).GetProperty("SubModelParameters", BindingFlags.Instance | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("this ML.NET version has no OneVersusAllModelParameters.SubModelParameters; the LightGBM exporter needs updating.");
        var subModels = (System.Collections.IEnumerable)property.GetValue(ova)!;
        foreach (object sub in subModels)
        {
            yield return sub switch
            {
                CalibratedModelParametersBase<LightGbmBinaryModelParameters, PlattCalibrator> c => c.SubModel.TrainedTreeEnsemble,
                LightGbmBinaryModelParameters p => p.TrainedTreeEnsemble,
                _ => throw new InvalidOperationException($"unexpected ML.NET sub-model type {sub.GetType().Name}."),
            };
        }
    }

    private static void CheckWeights(IReadOnlyList<double> weights)
    {
        if (weights.Any(w => w != 1))
        {
            throw new InvalidOperationException("ML.NET tree weights other than 1 are not expected from LightGBM.");
        }
    }

    private static GbdtModel Assemble(List<List<RegressionTree>> perClass, List<double> biases, bool binary, double sigmoid, TrainingTable table, IReadOnlyList<int> trainRows)
    {
        int k = perClass.Count;
        int rounds = perClass.Max(p => p.Count);
        var trees = new List<GbdtTree>(rounds * k);
        for (int i = 0; i < rounds; i++)
        {
            for (int c = 0; c < k; c++)
            {
                // ML.NET drops nothing today, but a class with fewer trees is padded with zero trees: they add nothing.
                var tree = i < perClass[c].Count ? Convert(perClass[c][i]) : Constant(0);
                if (i == 0 && biases[c] != 0)
                {
                    tree = tree with { LeafValue = [.. tree.LeafValue.Select(v => v + biases[c])] };
                }

                trees.Add(tree);
            }
        }

        if (rounds == 0)
        {
            trees.AddRange(biases.Select(Constant));
        }

        int width = table.Features.Count;
        var min = Enumerable.Repeat(float.MaxValue, width).ToArray();
        var max = Enumerable.Repeat(-float.MaxValue, width).ToArray();
        var rows = new float[trainRows.Count * width];
        var gather = new TableDataView(table, trainRows, table.Features);
        for (int r = 0; r < trainRows.Count; r++)
        {
            var span = rows.AsSpan(r * width, width);
            gather.Gather(trainRows[r], span);
            for (int j = 0; j < width; j++)
            {
                min[j] = Math.Min(min[j], span[j]);
                max[j] = Math.Max(max[j], span[j]);
            }
        }

        var model = new GbdtModel(trees, k, binary, sigmoid, table.Features, min, max);
        model.CountCovers(rows, trainRows.Count);
        return model;
    }

    private static GbdtTree Convert(RegressionTree tree)
    {
        if (tree.CategoricalSplitFlags.Any(f => f))
        {
            throw new InvalidOperationException("ML.NET produced a categorical split; Stakeout trains numerical splits only.");
        }

        int internals = tree.NumberOfNodes;
        return new GbdtTree(
            [.. tree.NumericalSplitFeatureIndexes.Take(internals)],
            [.. tree.SplitGains.Take(internals)],
            [.. tree.NumericalSplitThresholds.Take(internals).Select(t => (double)t)],
            [.. tree.LeftChild.Take(internals)],
            [.. tree.RightChild.Take(internals)],
            [.. tree.LeafValues]);
    }

    private static GbdtTree Constant(double value) => new([], [], [], [], [], [value]);

    /// <summary>The rows to train on and the weight of each class under <paramref name="mode"/>.</summary>
    internal static (IReadOnlyList<int> Rows, float[]? Weights) Balance(TrainingTable table, IReadOnlyList<int> rows, ImbalanceHandling mode, int seed)
    {
        var counts = table.ClassCounts(rows);
        int present = counts.Count(c => c > 0);
        switch (mode)
        {
            case ImbalanceHandling.ClassWeights:
                return (rows, [.. counts.Select(n => n == 0 ? 1f : (float)Math.Sqrt((double)rows.Count / (present * n)))]);
            case ImbalanceHandling.BalancedWeights:
                return (rows, [.. counts.Select(n => n == 0 ? 1f : (float)((double)rows.Count / (present * n)))]);
            case ImbalanceHandling.BenignHalf:
                int benign = IndexOfBenign(table.Classes);
                if (benign < 0 || counts[benign] == 0 || present < 2)
                {
                    goto case ImbalanceHandling.BalancedWeights;
                }

                return (rows, [.. counts.Select((n, c) => n == 0 ? 1f
                    : c == benign ? (float)((double)rows.Count / (2.0 * n))
                    : (float)((double)rows.Count / (2.0 * (present - 1) * n)))]);
            case ImbalanceHandling.BalancedSampling:
                int target = (int)(rows.Count / present);
                var byClass = Enumerable.Range(0, counts.Length).Select(_ => new List<int>()).ToArray();
                foreach (int r in rows)
                {
                    byClass[table.Label(r)].Add(r);
                }

                var random = new Random(seed);
                var result = new List<int>(target * present);
                foreach (var members in byClass.Where(m => m.Count > 0))
                {
                    var shuffled = members.ToArray();
                    random.Shuffle(shuffled);
                    for (int i = 0; i < target; i++)
                    {
                        result.Add(shuffled[i % shuffled.Length]);
                    }
                }

                result.Sort();
                return (result, null);
            default:
                return (rows, null);
        }
    }

    private static int IndexOfBenign(IReadOnlyList<string> classes)
    {
        for (int i = 0; i < classes.Count; i++)
        {
            if (string.Equals(classes[i], LabelTaxonomy.Benign, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// How many rounds fit in <paramref name="budget"/>: a probe of a few rounds is timed on the same rows (dataset
    /// construction included, so the estimate errs on the short side) and the rest is extrapolated.
    /// </summary>
    public static int RoundsWithin(TrainingTable table, IReadOnlyList<int> rows, LightGbmSettings settings, int seed, TimeSpan budget)
    {
        int probeRounds = Math.Min(10, settings.Iterations);
        var watch = Stopwatch.StartNew();
        Train(table, rows, settings with { Iterations = probeRounds }, seed);
        double perRound = watch.Elapsed.TotalSeconds / probeRounds;
        double left = budget.TotalSeconds - watch.Elapsed.TotalSeconds;
        return Math.Clamp((int)(left / perRound), 1, settings.Iterations);
    }
}
