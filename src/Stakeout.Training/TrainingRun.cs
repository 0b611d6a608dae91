using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Stakeout.Core;
using Stakeout.Evaluation;
using Stakeout.Ingest;
using Stakeout.Models;

namespace Stakeout.Training;

/// <summary>Which model to train.</summary>
public enum ModelChoice
{
    /// <summary>LightGBM gradient-boosted trees (multiclass, or binary at the binary level). The default.</summary>
    LightGbm,
    /// <summary>The prototype's three-feature class-balanced logistic regression (binary labels only).</summary>
    SeedLogReg,
}

/// <summary>Everything `stakeout train` decides, validated once.</summary>
public sealed record TrainOptions
{
    /// <summary>Training files or directories.</summary>
    public IReadOnlyList<string> Paths { get; init; } = [];

    /// <summary>Label level, features and de-duplication.</summary>
    public TrainingDataOptions Data { get; init; } = new();

    /// <summary>Model family.</summary>
    public ModelChoice Model { get; init; } = ModelChoice.LightGbm;

    /// <summary>LightGBM hyperparameters.</summary>
    public LightGbmSettings LightGbm { get; init; } = new();

    /// <summary>Seed of the split, sampling and training.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Fraction of rows held out for the test report.</summary>
    public double TestFraction { get; init; } = 0.3;

    /// <summary>How rows are held out.</summary>
    public SplitMode Split { get; init; } = SplitMode.Random;

    /// <summary>Wall-time budget for boosting; rounds are cut to fit. Null: no budget.</summary>
    public TimeSpan? TimeBudget { get; init; }

    /// <summary>Alert threshold written to the manifest.</summary>
    public double Threshold { get; init; } = 0.5;

    /// <summary>When set, the exact train and test rows are written there as train.csv and test.csv.</summary>
    public string? SaveSplitDirectory { get; init; }

    /// <summary>
    /// Fine-tuning only: continue with the class weighting the parent model was trained with (its manifest's
    /// <c>imbalance</c>) instead of <see cref="LightGbmSettings.Imbalance"/>, so new rounds keep the parent's objective.
    /// The CLI sets it unless <c>--imbalance</c> is given.
    /// </summary>
    public bool ImbalanceFromParent { get; init; }

    /// <summary>The anomaly model and training profile fitted beside the classifier (docs/beyond-training.md).</summary>
    public AnomalySettings Anomaly { get; init; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public TrainOptions Validate()
    {
        if (Paths.Count == 0)
        {
            throw new ArgumentException("at least one training path is required.", nameof(Paths));
        }

        if (!(TestFraction > 0 && TestFraction < 1))
        {
            throw new ArgumentException($"--test-fraction must be between 0 and 1 (exclusive); it was {TestFraction}.", nameof(TestFraction));
        }

        if (!(Threshold is >= 0 and <= 1))
        {
            throw new ArgumentException($"--threshold must be in [0, 1]; it was {Threshold}.", nameof(Threshold));
        }

        if (TimeBudget is { } b && b <= TimeSpan.Zero)
        {
            throw new ArgumentException($"--time-budget must be positive; it was {b}.", nameof(TimeBudget));
        }

        LightGbm.Validate();
        Anomaly.Validate();
        return this;
    }
}

/// <summary>Where a training run reports what it does (application.log and the console, in the CLI).</summary>
public interface ITrainingLog
{
    /// <summary>One line of progress or accounting.</summary>
    void Info(string message);
}

/// <summary>What a training run produced.</summary>
public sealed record TrainResult
{
    /// <summary>The model, ready to save.</summary>
    public required ModelArtifact Artifact { get; init; }

    /// <summary>The data it was trained on.</summary>
    public required TrainingTable Table { get; init; }

    /// <summary>The split.</summary>
    public required DataSplit Split { get; init; }

    /// <summary>Metrics on the held-out test rows (Stakeout.Evaluation's, as `stakeout evaluate` computes them).</summary>
    public required EvaluationMetrics Test { get; init; }

    /// <summary>classification_report.log text.</summary>
    public required string Report { get; init; }

    /// <summary>Wall time of model fitting (not reading).</summary>
    public required TimeSpan FitTime { get; init; }

    /// <summary>Largest |P(ML.NET) - P(exported model)| over the test rows.</summary>
    public required double ExportMaxAbsDiff { get; init; }

    internal ExportedModel Model { get; init; } = null!;
}

/// <summary>The exported model, scored by a plain walk (the reference for the artifact's fast scorer).</summary>
internal sealed class ExportedModel(GbdtModel? gbdt, LogisticPayload? logistic, int classes)
{
    public GbdtModel? Gbdt => gbdt;

    public LogisticPayload? Logistic => logistic;

    public int Classes => classes;

    /// <summary>Probabilities of one row of 78 canonical floats (non-finite values already mapped).</summary>
    public void Predict(ReadOnlySpan<float> row, Span<double> probabilities)
    {
        if (logistic is not null)
        {
            double p = logistic.Probability(row);
            probabilities[0] = 1 - p;
            probabilities[1] = p;
            return;
        }

        var model = gbdt!;
        Span<float> inputs = stackalloc float[model.Features.Count];
        for (int j = 0; j < inputs.Length; j++)
        {
            inputs[j] = row[model.Features[j]];
        }

        Span<double> raw = stackalloc double[model.TreesPerIteration];
        model.Raw(inputs, raw);
        model.Probabilities(raw, probabilities);
    }
}

/// <summary>
/// One honest training run: read, de-duplicate, split, fit on the training part only, export, score the test part,
/// and build the artifact with a complete manifest.
/// </summary>
public sealed class TrainingRun(ITrainingLog log, TimeProvider time)
{
    /// <summary>Runs it.</summary>
    public TrainResult Execute(TrainOptions options, IProgress<ReadProgress>? readProgress = null, CancellationToken cancellationToken = default)
    {
        var (table, split) = Prepare(options, readProgress, cancellationToken);
        return Fit(table, split, options, null, [], cancellationToken);
    }

    /// <summary>
    /// Searches LightGBM settings by k-fold cross-validation on the training split only, then fits the best on the whole
    /// training split and reports it on the test split.
    /// </summary>
    public (TrainResult Result, IReadOnlyList<TuneTrial> Trials) Tune(TrainOptions options, int folds, int maxTrials, TimeSpan budget, IProgress<ReadProgress>? readProgress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (table, split) = Prepare(options with { Model = ModelChoice.LightGbm }, readProgress, cancellationToken);
        log.Info(string.Create(CultureInfo.InvariantCulture, $"tuning: {folds}-fold cross-validation on the {split.Train.Count:N0} training rows, up to {maxTrials} trials within {budget.TotalSeconds:F0} s"));
        var trials = new Tuner(log).Search(table, split.Train, options.LightGbm, folds, maxTrials, budget, options.Seed, cancellationToken);
        log.Info($"best: {trials[0].Describe()}");
        var result = Fit(table, split, options with { Model = ModelChoice.LightGbm, LightGbm = trials[0].Settings, TimeBudget = null }, null, [], cancellationToken);
        return (result, trials);
    }

    /// <summary>
    /// Continues a stored LightGBM model on new labelled data: the schema (features, label level) and the class list are
    /// kept (a new class is an error unless <paramref name="allowNewClasses"/>), the new data is split as usual, and
    /// <c>options.LightGbm.Iterations</c> new rounds are boosted on the training part starting from the stored model's raw
    /// scores (LightGBM's init_score), then appended to its trees. The lineage records the parent.
    /// </summary>
    public TrainResult FineTune(string parentPath, TrainOptions options, bool allowNewClasses, IProgress<ReadProgress>? readProgress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var parent = ModelArtifact.Load(parentPath);
        var pm = parent.Manifest;
        if (pm.ModelKind != "lightgbm")
        {
            throw new TrainingDataException($"{parentPath}: only LightGBM models can be fine-tuned; this one is '{pm.ModelKind}'.");
        }

        var features = pm.Features.Select(f => f.Index).ToArray();
        var (table, split) = Prepare(options with
        {
            Model = ModelChoice.LightGbm,
            Data = options.Data with { Level = TrainingTable.ParseLevel(pm.LabelLevel), RequiredFeatures = features, Classes = pm.Classes, AllowNewClasses = allowNewClasses },
        }, readProgress, cancellationToken);
        var gbdt = GbdtModel.Parse(Encoding.UTF8.GetString(parent.Payload.Span), features);
        for (int added = pm.Classes.Count; added < table.Classes.Count; added++)
        {
            log.Info($"new class '{table.Classes[added]}' added to the model (its score starts at 0 in the stored rounds)");
            gbdt = gbdt.WithExtraClass();
        }

        var settings = options.LightGbm;
        if (options.ImbalanceFromParent && pm.Hyperparameters.TryGetValue("imbalance", out string? parentImbalance))
        {
            settings = settings with { Imbalance = LightGbmSettings.ParseImbalance(parentImbalance) };
            log.Info($"class weighting as the parent was trained: {parentImbalance}");
        }

        var (rows, weights) = LightGbmTrainer.Balance(table, split.Train, settings.Imbalance, options.Seed);
        int width = features.Length, k = gbdt.TreesPerIteration, n = rows.Count;
        var inputs = new float[n * width];
        var labels = new float[n];
        var rowWeights = new float[n];
        var init = new double[n * k];
        var gather = new TableDataView(table, rows, features);
        var raw = new double[k];
        for (int i = 0; i < n; i++)
        {
            var span = inputs.AsSpan(i * width, width);
            gather.Gather(rows[i], span);
            int label = table.Label(rows[i]);
            labels[i] = label;
            rowWeights[i] = weights?[label] ?? 1f;
            gbdt.Raw(span, raw);
            for (int c = 0; c < k; c++)
            {
                init[(c * n) + i] = raw[c];
            }
        }

        log.Info(string.Create(CultureInfo.InvariantCulture, $"fine-tuning {parentPath} ({gbdt.Iterations} rounds) with {settings.Iterations} more rounds on {n:N0} rows, from its raw scores"));
        string text = NativeLightGbm.Continue(inputs, width, labels, rowWeights, init, table.Classes.Count, settings, options.Seed, gbdt.Sigmoid);
        var more = GbdtModel.Parse(text, features);
        more.CountCovers(inputs, n);
        var combined = gbdt.Append(more);
        string note = string.Create(CultureInfo.InvariantCulture, $"fine-tuned with {more.Iterations} rounds on {table.Files.Count} files, {split.Train.Count:N0} training rows");
        var lineage = pm.Lineage.Append(new ManifestLineage(parent.Sha256 ?? "", pm.CreatedUtc, note)).ToList();
        return Fit(table, split, options with { Model = ModelChoice.LightGbm, TimeBudget = null, LightGbm = settings }, combined, lineage, cancellationToken);
    }

    private (TrainingTable Table, DataSplit Split) Prepare(TrainOptions options, IProgress<ReadProgress>? readProgress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var c = CultureInfo.InvariantCulture;
        var data = options.Model == ModelChoice.SeedLogReg ? options.Data with { Level = LabelLevel.Binary } : options.Data;
        log.Info($"reading {string.Join(", ", options.Paths)}");
        var watch = Stopwatch.StartNew();
        var table = TrainingTable.Load(options.Paths, data, readProgress, cancellationToken);
        log.Info(string.Create(c, $"read {table.RowsRead:N0} rows from {table.Files.Count} files in {watch.Elapsed.TotalSeconds:F1} s; {table.DuplicatesRemoved:N0} exact duplicates removed across files; {table.Count:N0} rows kept"));
        foreach (var f in table.Files)
        {
            log.Info(string.Create(c, $"  {f.Path}: {f.RowsRead:N0} rows read, {f.RowsUsed:N0} kept, sha256 {f.Sha256[..16]}…"));
        }

        LogData(table);
        var split = DataSplit.Create(table, options.Split, options.TestFraction, options.Seed);
        log.Info(string.Create(c, $"split {split.ModeName} (seed {options.Seed}): {split.Train.Count:N0} training rows, {split.Test.Count:N0} test rows"));
        if (options.SaveSplitDirectory is { } dir)
        {
            Directory.CreateDirectory(dir);
            table.WriteCsv(Path.Combine(dir, "train.csv"), split.Train);
            table.WriteCsv(Path.Combine(dir, "test.csv"), split.Test);
            log.Info($"wrote the split to {Path.Combine(dir, "train.csv")} and {Path.Combine(dir, "test.csv")}");
        }

        return (table, split);
    }

    internal TrainResult Fit(TrainingTable table, DataSplit split, TrainOptions options, GbdtModel? prebuilt, IReadOnlyList<ManifestLineage> lineage, CancellationToken cancellationToken)
    {
        var c = CultureInfo.InvariantCulture;
        var settings = options.LightGbm;
        var watch = Stopwatch.StartNew();
        ExportedModel model;
        double diff = 0;
        TimeSpan? fitTime = null;
        Dictionary<string, string> hyper;
        string kind;
        byte[] payload;
        if (options.Model == ModelChoice.SeedLogReg)
        {
            log.Info("fitting seed-logreg (Flow Duration, Total Fwd Packets, Total Backward Packets; min-max; class-balanced L-BFGS logistic regression)");
            var lr = SeedLogRegTrainer.Train(table, split.Train, options.Seed);
            model = new ExportedModel(null, lr, 2);
            hyper = new Dictionary<string, string>(StringComparer.Ordinal) { ["trainer"] = "ml.net lbfgs logistic regression", ["l2"] = "1", ["class_weight"] = "balanced" };
            kind = "logistic-regression";
            payload = lr.ToJson();
        }
        else
        {
            if (options.TimeBudget is { } budget && prebuilt is null)
            {
                int rounds = LightGbmTrainer.RoundsWithin(table, split.Train, settings, options.Seed, budget);
                log.Info($"time budget {budget.TotalSeconds:F0} s: {rounds} of {settings.Iterations} rounds fit");
                settings = settings with { Iterations = rounds };
            }

            int? maxRounds = null;
            if (prebuilt is null && settings.EarlyStoppingRounds > 0)
            {
                maxRounds = settings.Iterations;
                settings = settings with { Iterations = ChooseRounds(table, split.Train, settings, options.Seed, cancellationToken), EarlyStoppingRounds = 0 };
            }

            log.Info(string.Create(c, $"fitting LightGBM {(table.Classes.Count == 2 ? "binary" : "multiclass")} on {table.Features.Count} features, {table.Classes.Count} classes: {settings.Iterations} rounds, {settings.Leaves} leaves, learning rate {settings.LearningRate}, lambda_l2 {settings.L2}, min_data_in_leaf {settings.MinDataInLeaf}, max_bin {settings.MaxBin}, imbalance {LightGbmSettings.ImbalanceName(settings.Imbalance)}, threads {settings.ThreadsFor(split.Train.Count)}"));
            GbdtModel gbdt;
            if (prebuilt is null)
            {
                ITransformer transformer;
                using (Heartbeat(string.Create(c, $"{settings.Iterations} rounds × {table.Classes.Count} classes on {split.Train.Count:N0} rows")))
                {
                    (gbdt, transformer, _) = LightGbmTrainer.Train(table, split.Train, settings, options.Seed, cancellationToken);
                }

                model = new ExportedModel(gbdt, null, table.Classes.Count);
                fitTime = watch.Elapsed;
                var (checkRows, checkedSplit) = split.Test.Count > 0 ? (split.Test, "test") : (split.Train, "training");
                checkRows = EvenSample(checkRows, ExportCheckRows);
                diff = CompareWithMlNet(transformer, model, table, checkRows);
                log.Info(string.Create(c, $"exported model vs ML.NET on {checkRows.Count:N0} {checkedSplit} rows: max |Δp| = {diff:E2}"));
                if (!(diff <= ExportTolerance))
                {
                    // NaN fails too: a non-finite probability is the worst disagreement there is.
                    throw new InvalidOperationException(string.Create(c, $"the exported trees disagree with ML.NET's own predictions by up to {diff:E2} (tolerance {ExportTolerance:E0}); the model is not written. This is a Stakeout bug: please report it with the training command."));
                }
            }
            else
            {
                gbdt = prebuilt;
                model = new ExportedModel(gbdt, null, table.Classes.Count);
            }

            hyper = settings.ToDictionary();
            if (maxRounds is { } max)
            {
                hyper["early_stopping_rounds"] = options.LightGbm.EarlyStoppingRounds.ToString(c);
                hyper["early_stopping_max_rounds"] = max.ToString(c);
                hyper["early_stopping_validation_fraction"] = options.LightGbm.ValidationFraction.ToString("R", c);
            }

            hyper["trainer"] = "ml.net lightgbm";
            hyper["objective"] = table.Classes.Count == 2 ? "binary" : "multiclass";
            hyper["seed"] = options.Seed.ToString(c);
            kind = "lightgbm";
            payload = Encoding.UTF8.GetBytes(gbdt.ToLightGbmText());
        }

        fitTime ??= watch.Elapsed;
        log.Info(string.Create(c, $"fitted in {fitTime.Value.TotalSeconds:F1} s"));
        int benign = IndexOf(table.Classes, LabelTaxonomy.Benign);
        var test = Score(model, table, split.Test, benign, options.Threshold);
        log.Info(string.Create(c, $"test split: accuracy {test.Accuracy:F4}, macro-F1 {test.MacroF1:F4}, BENIGN false-positive rate {Pct(test.BenignFpr)}, attack recall {Pct(test.AttackRecall)}"));
        var importance = Importance(model, table);
        var trainCounts = table.ClassCounts(split.Train);
        var manifest = new ModelManifest
        {
            StakeoutVersion = typeof(TrainingRun).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
            CreatedUtc = time.GetUtcNow(),
            ModelKind = kind,
            Features = [.. (model.Logistic?.Features ?? [.. table.Features]).Select(f => new ManifestFeature(f, FeatureSchema.Features[f].Name))],
            NonFinite = NonFiniteMapping.Name,
            LabelLevel = TrainingTable.Name(table.Level),
            Classes = table.Classes,
            BenignClass = LabelTaxonomy.Benign,
            Threshold = options.Threshold,
            ThresholdSource = "default",
            Training = new ManifestTrainingData
            {
                Files = [.. table.Files.Select(f => new ManifestDataFile(f.Path, f.RowsRead, f.Sha256))],
                RowsRead = table.RowsRead,
                DuplicatesRemoved = table.DuplicatesRemoved,
                TrainRows = split.Train.Count,
                TestRows = split.Test.Count,
                Split = split.ModeName,
                TestFraction = split.TestFraction,
                Seed = split.Seed,
                ClassCounts = table.Classes.Select((n, i) => (n, i)).ToDictionary(t => t.n, t => trainCounts[t.i], StringComparer.Ordinal),
            },
            Metrics = ManifestMetrics(test),
            Hyperparameters = hyper,
            FeatureImportance = importance,
            Lineage = lineage,
        };
        var artifact = ModelArtifact.Create(manifest, payload);
        if (options.Anomaly.Enabled)
        {
            var beyond = BeyondTrainer.Fit(table, split, artifact, options.Anomaly, options.Seed, log);
            var allMetrics = new Dictionary<string, double>(manifest.Metrics, StringComparer.Ordinal);
            foreach (var (name, value) in beyond.Metrics)
            {
                allMetrics[name] = value;
            }

            artifact = ModelArtifact.Create(manifest with { Metrics = allMetrics }, payload, beyond.Anomaly, beyond.Profile);
        }

        return new TrainResult
        {
            Artifact = artifact,
            Table = table,
            Split = split,
            Test = test,
            Report = BuildReport(table, split, test, importance, options, kind),
            FitTime = fitTime.Value,
            ExportMaxAbsDiff = diff,
            Model = model,
        };
    }

    private void LogData(TrainingTable table)
    {
        log.Info($"label level: {TrainingTable.Name(table.Level)}; classes: {string.Join(", ", table.Classes.Zip(table.ClassCounts(), (n, k) => $"{n} {k}"))}");
        log.Info($"features: {table.Features.Count} used" + (table.MissingFeatures.Count > 0 ? $"; left out because some file lacks them: {string.Join(", ", table.MissingFeatures)}" : ""));
        if (table.ConstantFeatures.Count > 0)
        {
            log.Info($"constant features (one value in every row, no use to a model): {string.Join(", ", table.ConstantFeatures)}");
        }

        foreach (var (label, count) in table.UnknownLabels)
        {
            log.Info($"label '{label}' is not in the CIC-IDS2017 taxonomy; kept as its own class ({count} rows)");
        }
    }

    /// <summary>
    /// Scores <paramref name="rows"/> with the exported model and measures them with Stakeout.Evaluation (the detector's
    /// decision rule at <paramref name="threshold"/>). <paramref name="keepScores"/> keeps probabilities for PR-AUC.
    /// </summary>
    internal static EvaluationMetrics Score(ExportedModel model, TrainingTable table, IReadOnlyList<int> rows, int benign, double threshold, bool keepScores = true)
        => Accumulate(model, table, rows, benign, threshold, keepScores).Compute(table.Level);

    /// <summary>The accumulator <see cref="Score"/> computes from: every row scored in parallel, then added in row order.</summary>
    internal static EvaluationAccumulator Accumulate(ExportedModel model, TrainingTable table, IReadOnlyList<int> rows, int benign, double threshold, bool keepScores)
    {
        int k = model.Classes;
        var probabilities = new float[rows.Count * k];
        var truth = new int[rows.Count];
        Parallel.For(0, rows.Count, () => new double[k], (i, _, p) =>
        {
            model.Predict(table.Row(rows[i]), p);
            for (int c = 0; c < k; c++)
            {
                probabilities[(i * k) + c] = (float)p[c];
            }

            truth[i] = table.Label(rows[i]);
            return p;
        }, _ => { });
        var accumulator = new EvaluationAccumulator(table.Classes, table.Level, benign, threshold, keepScores);
        accumulator.AddBatch(truth, [.. table.Classes.Select(LabelTaxonomy.Resolve)], probabilities);
        return accumulator;
    }

    /// <summary>The headline figures the manifest records (undefined rates are left out, never NaN).</summary>
    internal static Dictionary<string, double> ManifestMetrics(EvaluationMetrics metrics)
    {
        var d = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["rows"] = metrics.Rows,
            ["accuracy"] = Math.Round(metrics.Accuracy, 6),
            ["macro_f1"] = Math.Round(metrics.MacroF1, 6),
            ["weighted_f1"] = Math.Round(metrics.WeightedF1, 6),
        };
        if (metrics.BenignFpr is { } fpr)
        {
            d["benign_fpr"] = Math.Round(fpr, 6);
        }

        if (metrics.AttackRecall is { } recall)
        {
            d["attack_recall"] = Math.Round(recall, 6);
        }

        return d;
    }

    /// <summary>
    /// Early stopping: boosts up to <see cref="LightGbmSettings.Iterations"/> rounds on the training split minus a stratified
    /// validation slice (the test split is never looked at), recomputes the slice's log-loss round by round from the
    /// exported trees (class-weighted like the objective), and returns the round where it was lowest, by LightGBM's rule:
    /// stop once <see cref="LightGbmSettings.EarlyStoppingRounds"/> rounds bring no improvement. (ML.NET 5.0.1's own
    /// EarlyStoppingRound stopped at round 22 of a curve that was still falling, so the rule is applied here.) The final model is then boosted
    /// that many rounds on the whole training split, so no training row is lost to validation.
    /// </summary>
    internal int ChooseRounds(TrainingTable table, IReadOnlyList<int> trainRows, LightGbmSettings settings, int seed, CancellationToken cancellationToken)
    {
        var c = CultureInfo.InvariantCulture;
        var (fit, validation) = DataSplit.CarveValidation(table, trainRows, settings.ValidationFraction, seed);
        if (validation.Count == 0 || fit.Count == 0)
        {
            log.Info(string.Create(c, $"early stopping off: {trainRows.Count:N0} training rows are too few for a validation slice; {settings.Iterations} rounds"));
            return settings.Iterations;
        }

        var watch = Stopwatch.StartNew();
        var (probe, _, _) = LightGbmTrainer.Train(table, fit, settings, seed, cancellationToken);
        int width = table.Features.Count;
        var rows = new float[validation.Count * width];
        var labels = new int[validation.Count];
        var gather = new TableDataView(table, validation, table.Features);
        for (int i = 0; i < validation.Count; i++)
        {
            gather.Gather(validation[i], rows.AsSpan(i * width, width));
            labels[i] = table.Label(validation[i]);
        }

        // The class weights the objective used (none for resampling or no handling, where Balance gives none).
        var weights = LightGbmTrainer.Balance(table, fit, settings.Imbalance, seed).Weights;
        var losses = probe.LossByIteration(rows, labels, weights);
        int best = BestRound(losses, settings.EarlyStoppingRounds);
        log.Info(string.Create(c, $"early stopping on {validation.Count:N0} validation rows carved from the training split ({fit.Count:N0} fitted): validation log-loss lowest at round {best} ({(best > 0 ? losses[best - 1] : double.NaN):F5}) of {losses.Length} boosted (max {settings.Iterations}, patience {settings.EarlyStoppingRounds}) in {watch.Elapsed.TotalSeconds:F1} s"));
        return best;
    }

    /// <summary>
    /// The 1-based round with the lowest loss, scanning until <paramref name="patience"/> rounds pass without a new lowest
    /// (LightGBM's early-stopping rule); at least 1.
    /// </summary>
    internal static int BestRound(IReadOnlyList<double> losses, int patience)
    {
        ArgumentNullException.ThrowIfNull(losses);
        ArgumentOutOfRangeException.ThrowIfLessThan(patience, 1);
        int best = 0;
        for (int r = 1; r < losses.Count && r - best <= patience; r++)
        {
            if (losses[r] < losses[best])
            {
                best = r;
            }
        }

        return losses.Count == 0 ? 1 : best + 1;
    }

    /// <summary>How often a fit that ML.NET runs without progress callbacks says it is still at work.</summary>
    internal static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Logs "still fitting" with the elapsed time every <see cref="HeartbeatInterval"/> until disposed. ML.NET 5's LightGBM
    /// trainer reports no per-round progress (neither through MLContext.Log nor with Verbose), so a multi-minute fit on the
    /// full dataset would otherwise be silent.
    /// </summary>
    private FitHeartbeat Heartbeat(string what) => new(log, time, what);

    /// <summary>
    /// The heartbeat's timer. Disposing it waits for a line being written and stops any later one, so the run's own log
    /// lines after the fit never interleave with a heartbeat (the log need not be thread-safe).
    /// </summary>
    private sealed class FitHeartbeat : IDisposable
    {
        private readonly Lock _gate = new();
        private readonly ITimer _timer;
        private bool _stopped;
        private Exception? _failure;

        public FitHeartbeat(ITrainingLog log, TimeProvider time, string what)
        {
            long start = time.GetTimestamp();
            _timer = time.CreateTimer(_ =>
            {
                lock (_gate)
                {
                    if (_stopped)
                    {
                        return;
                    }

                    try
                    {
                        log.Info(string.Create(CultureInfo.InvariantCulture, $"still fitting ({what}): {time.GetElapsedTime(start).TotalSeconds:F0} s elapsed"));
                    }
                    catch (Exception ex) when (ex is IOException or ObjectDisposedException)
                    {
                        // On a timer thread an exception would end the process; it is kept and raised by Dispose, on the
                        // run's own thread, where the same log would fail next anyway.
                        _failure = ex;
                        _stopped = true;
                    }
                }
            }, null, HeartbeatInterval, HeartbeatInterval);
        }

        public void Dispose()
        {
            Exception? failure;
            lock (_gate)
            {
                _stopped = true;
                failure = _failure;
            }

            _timer.Dispose();
            if (failure is not null)
            {
                throw new IOException($"the training log could not be written during the fit: {failure.Message}", failure);
            }
        }
    }

    /// <summary>
    /// Test rows on which every trained model is checked against ML.NET's own predictions. The check is a guard against
    /// an export bug, not a measurement: the scorer's equality with ML.NET on all shared data is a test
    /// (TrainingSharedDataTests). On the 60,000-row test split of 200 k rows the whole split cost 2.7 s, more than the rest
    /// of the command after the fit.
    /// </summary>
    internal const int ExportCheckRows = 10_000;

    /// <summary>The largest probability difference the export check accepts (issue #5's bar for the scorer).</summary>
    internal const double ExportTolerance = 1e-5;

    /// <summary>At most <paramref name="max"/> of <paramref name="rows"/>, evenly spaced (deterministic, order kept).</summary>
    internal static IReadOnlyList<int> EvenSample(IReadOnlyList<int> rows, int max)
    {
        if (rows.Count <= max)
        {
            return rows;
        }

        var sample = new int[max];
        for (int i = 0; i < max; i++)
        {
            sample[i] = rows[(int)((long)i * rows.Count / max)];
        }

        return sample;
    }

    /// <summary>Largest probability difference between ML.NET's own predictions and the exported trees on <paramref name="rows"/>.</summary>
    internal static double CompareWithMlNet(ITransformer transformer, ExportedModel model, TrainingTable table, IReadOnlyList<int> rows)
    {
        var ml = MlNetProbabilities(transformer, table, rows);
        int k = model.Classes;
        double max = 0;
        var p = new double[k];
        for (int i = 0; i < rows.Count; i++)
        {
            model.Predict(table.Row(rows[i]), p);
            for (int j = 0; j < k; j++)
            {
                max = Math.Max(max, Math.Abs(p[j] - ml[(i * k) + j]));
            }
        }

        return max;
    }

    /// <summary>ML.NET's probabilities (batch Transform) for <paramref name="rows"/>, row-major.</summary>
    internal static float[] MlNetProbabilities(ITransformer transformer, TrainingTable table, IReadOnlyList<int> rows)
    {
        bool binary = table.Classes.Count == 2;
        var scored = transformer.Transform(new TableDataView(table, rows, table.Features, booleanLabel: binary));
        int k = table.Classes.Count;
        var result = new float[rows.Count * k];
        var column = scored.Schema[binary ? "Probability" : "Score"];
        using var cursor = scored.GetRowCursor([column]);
        int i = 0;
        if (binary)
        {
            var getter = cursor.GetGetter<float>(column);
            float p = 0;
            while (cursor.MoveNext())
            {
                getter(ref p);
                result[i * 2] = 1 - p;
                result[(i * 2) + 1] = p;
                i++;
            }
        }
        else
        {
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> v = default;
            while (cursor.MoveNext())
            {
                getter(ref v);
                v.GetValues().CopyTo(result.AsSpan(i * k, k));
                i++;
            }
        }

        return result;
    }

    private static Dictionary<string, double> Importance(ExportedModel model, TrainingTable table)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        if (model.Gbdt is { } g)
        {
            var gain = g.GainImportance();
            foreach (int j in Enumerable.Range(0, gain.Length).OrderByDescending(j => gain[j]))
            {
                result[FeatureSchema.Features[g.Features[j]].Name] = Math.Round(gain[j], 4);
            }
        }
        else if (model.Logistic is { } lr)
        {
            foreach (int j in Enumerable.Range(0, lr.Weights.Length).OrderByDescending(j => Math.Abs(lr.Weights[j])))
            {
                result[FeatureSchema.Features[lr.Features[j]].Name] = Math.Round(Math.Abs(lr.Weights[j]), 6);
            }
        }

        _ = table;
        return result;
    }

    private static string BuildReport(TrainingTable table, DataSplit split, EvaluationMetrics test, Dictionary<string, double> importance, TrainOptions options, string kind)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"Classification report: {kind} model, {TrainingTable.Name(table.Level)} labels, held-out test split\n");
        sb.Append(c, $"data: {table.RowsRead:N0} rows read, {table.DuplicatesRemoved:N0} exact duplicates removed before the split, {table.Count:N0} rows\n");
        sb.Append(c, $"split: {split.ModeName}, test fraction {split.TestFraction}, seed {split.Seed}: {split.Train.Count:N0} train / {split.Test.Count:N0} test rows\n");
        sb.Append(c, $"threshold: attack score >= {options.Threshold}\n\n");
        sb.Append(test.Rows == 0 ? "no test rows to score.\n" : ClassificationReportText.Format(test));
        double total = importance.Values.Sum();
        sb.Append("\nfeature importance (gain share, top 20):\n");
        foreach (var (name, gain) in importance.Take(20))
        {
            sb.Append(c, $"  {name,-32}{(total > 0 ? gain / total : 0),8:P2}\n");
        }

        sb.Append(table.ConstantFeatures.Count == 0
            ? "\nconstant features: none\n"
            : $"\nconstant features ({table.ConstantFeatures.Count}, no use to a model): {string.Join(", ", table.ConstantFeatures)}\n");
        if (table.MissingFeatures.Count > 0)
        {
            sb.Append(c, $"features left out because some training file lacks them: {string.Join(", ", table.MissingFeatures)}\n");
        }

        return sb.ToString();
    }

    private static int IndexOf(IReadOnlyList<string> list, string value)
    {
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] == value)
            {
                return i;
            }
        }

        return -1;
    }

    private static string Pct(double? v) => v is { } x ? x.ToString("P3", CultureInfo.InvariantCulture) : "n/a";
}
