using System.CommandLine;
using System.Globalization;
using Stakeout.Ingest;
using Stakeout.Models;
using Stakeout.Training;

namespace Stakeout.Cli;

/// <summary>`stakeout train`: train a model on labelled flows and write it with its reports (prototype-compatible logs).</summary>
internal static class TrainCommands
{
    /// <summary>Adds `train` and `tune` (and, as they land, `calibrate`) to the root command.</summary>
    public static void AddTo(RootCommand root)
    {
        root.Subcommands.Add(CreateTrain());
        root.Subcommands.Add(CreateTune());
        root.Subcommands.Add(CreateCalibrate());
    }

    private static Command CreateCalibrate()
    {
        var model = new Option<string>("--model") { Description = "The model artifact to calibrate.", Required = true };
        var data = new Argument<string[]>("BENIGN_DATA") { Description = "The site's benign flows (files or directories); attack-labelled rows are left out.", Arity = ArgumentArity.OneOrMore };
        var maxFpr = new Option<double>("--max-fpr") { Description = "Largest share of this benign traffic allowed to alert.", DefaultValueFactory = _ => 0.001 };
        var modelOut = new Option<string?>("--model-out") { Description = "Where to write the calibrated model (default: replace --model)." };
        var signKey = new Option<string?>("--sign-key") { Description = "Sign the calibrated artifact with this Ed25519 private key." };
        var anomalyMaxFpr = new Option<double?>("--anomaly-max-fpr") { Description = "Largest share of this benign traffic allowed to reach the anomaly threshold (default: --max-fpr); models without an anomaly model ignore it." };
        var calibrate = new Command(
            "calibrate",
            """
            Set a model's alert threshold from a site's own benign traffic: the threshold becomes the attack score that at
            most --max-fpr of these flows reach. The manifest records how (threshold_source) and the parent (lineage).
            A model with an anomaly model (format 2) learns its anomaly threshold from the same flows (--anomaly-max-fpr).

            Examples:
              stakeout calibrate --model logs/model.stakeout site-benign/ --max-fpr 0.001
              stakeout calibrate --model model.stakeout monday.csv --max-fpr 0.0005 --model-out model-site.stakeout
            """)
        {
            model, data, maxFpr, modelOut, signKey, anomalyMaxFpr,
        };
        calibrate.SetAction(parse =>
        {
            try
            {
                string path = TrainOptionSet.PortablePath(parse.GetValue(model)!);
                var result = Calibration.Run(ModelArtifact.Load(path), [.. parse.GetValue(data)!.Select(TrainOptionSet.PortablePath)], parse.GetValue(maxFpr), TimeProvider.System, anomalyMaxFpr: parse.GetValue(anomalyMaxFpr));
                string output = parse.GetValue(modelOut) is { } o ? TrainOptionSet.PortablePath(o) : path;
                using var signer = parse.GetValue(signKey) is { } k ? ModelSigningKey.LoadPrivateKey(TrainOptionSet.PortablePath(k)) : null;
                var saved = result.Artifact.Save(output, signer);
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"threshold {result.PreviousThreshold} -> {result.Threshold:R} ({result.BenignRows:N0} benign flows, {result.FalsePositiveRate:P3} alert); wrote {output} (sha256 {saved.Sha256})"));
                if (result.AnomalyThreshold is { } at)
                {
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"anomaly threshold -> {at:F4} ({result.AnomalyFalsePositiveRate:P3} of the benign flows reach it); either kind of alert: {result.CombinedFalsePositiveRate:P3}"));
                }

                return 0;
            }
            catch (Exception ex) when (ex is FlowDataException or TrainingDataException or ArgumentException or ArtifactException or IOException or InvalidDataException)
            {
                return Terminal.Fail(ex.Message, ExitCodes.For(ex));
            }
        });
        return calibrate;
    }

    private static Command CreateTune()
    {
        var set = new TrainOptionSet();
        var folds = new Option<int>("--folds") { Description = "Cross-validation folds (on the training split only).", DefaultValueFactory = _ => 3 };
        var trials = new Option<int>("--trials") { Description = "Most trials to run (the defaults first, then seeded random draws).", DefaultValueFactory = _ => 20 };
        var tune = new Command(
            "tune",
            """
            Search LightGBM settings (lambda_l2, min_data_in_leaf, leaves, learning rate, imbalance handling) by k-fold
            cross-validation on the training split only, reporting each trial; then fit the best on the whole training
            split, report it on the held-out test split, and write the model. --time-budget (seconds, default 600) bounds
            the search. Takes every `train` option.

            Examples:
              stakeout tune ../shared/data/cicids2017-families ../shared/data/cicids2017 --labels family --time-budget 300
              stakeout tune data/ --folds 5 --trials 40 --output-dir tuning/
            """);
        set.AddTo(tune);
        tune.Options.Add(folds);
        tune.Options.Add(trials);
        tune.SetAction(parse =>
        {
            string dir = TrainOptionSet.PortablePath(parse.GetValue(set.OutputDir)!);
            try
            {
                var options = set.Build(parse);
                var budget = options.TimeBudget ?? TimeSpan.FromSeconds(600);
                int k = parse.GetValue(folds), n = parse.GetValue(trials);
                return Run(options with { TimeBudget = null }, dir, parse.GetValue(set.ModelOut), parse.GetValue(set.ValidationDir), parse.GetValue(set.SignKey), !parse.GetValue(set.NoReport), "tune", (run, progress) =>
                {
                    var (result, all) = run.Tune(options with { TimeBudget = null }, k, n, budget, progress);
                    return (result, "\ntrials (cross-validated on the training split, best first):\n" + string.Join("\n", all.Select(t => "  " + t.Describe())) + "\n");
                });
            }
            catch (ArgumentException ex)
            {
                return Terminal.Fail(ex.Message);
            }
        });
        return tune;
    }

    private static Command CreateTrain()
    {
        var set = new TrainOptionSet();
        var train = new Command(
            "train",
            """
            Train a model on labelled flows: exact duplicates removed across files, a stratified split (test split never
            used for fitting), LightGBM on every feature all files share (Destination Port off), class imbalance handled.
            Writes OUTPUT_DIR/application.log (also on the console), classification_report.log (test split),
            with --validation-dir also validation_report.log and malicious_ips.log, and the model artifact.

            Examples:
              stakeout train ../shared/data/cicids2017-families ../shared/data/cicids2017 --labels family --seed 1
              stakeout train data/ --validation-dir data/validation --output-dir logs --threshold 0.7
              stakeout train data\train.csv --model seed-logreg
              stakeout train data/ --split by-file --save-split split/ --exclude-features Init_Win_bytes_forward,Init_Win_bytes_backward
              stakeout train --from logs/model.stakeout site-flows/ --rounds 50 --model-out model-site.stakeout
            """);

        var from = new Option<string?>("--from") { Description = "Fine-tune this stored LightGBM model on the new data (same features, level and classes; --rounds more rounds)." };
        var allowNew = new Option<bool>("--allow-new-classes") { Description = "With --from: let the new data add classes instead of failing." };
        set.AddTo(train);
        train.Options.Add(from);
        train.Options.Add(allowNew);
        train.SetAction(parse =>
        {
            string dir = TrainOptionSet.PortablePath(parse.GetValue(set.OutputDir)!);
            try
            {
                string? parent = parse.GetValue(from) is { } f ? TrainOptionSet.PortablePath(f) : null;
                // A fine-tuned model keeps its parent's class weighting unless --imbalance says otherwise.
                var options = set.Build(parse) with { ImbalanceFromParent = parent is not null && parse.GetResult(set.Imbalance) is null or { Implicit: true } };
                bool allow = parse.GetValue(allowNew);
                return Run(options, dir, parse.GetValue(set.ModelOut), parse.GetValue(set.ValidationDir), parse.GetValue(set.SignKey), !parse.GetValue(set.NoReport), "train", (run, progress) =>
                    (parent is null ? run.Execute(options, progress) : run.FineTune(parent, options, allow, progress), ""));
            }
            catch (ArgumentException ex)
            {
                return Terminal.Fail(ex.Message);
            }
        });
        return train;
    }

    private static int Run(TrainOptions options, string outputDir, string? modelOutOption, string? validationDir, string? signKey, bool report, string verb, Func<TrainingRun, IProgress<ReadProgress>, (TrainResult Result, string Extra)> work)
    {
        string modelOut = modelOutOption is { } m ? TrainOptionSet.PortablePath(m) : Path.Combine(outputDir, "model.stakeout");
        FileAndConsoleLog opened;
        try
        {
            // Before any data is read: an unwritable output directory is one error naming it, not a trace after training.
            Directory.CreateDirectory(outputDir);
            opened = new FileAndConsoleLog(Path.Combine(outputDir, "application.log"), TimeProvider.System);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Terminal.Fail($"output directory '{outputDir}' is not writable: {ex.Message}");
        }

        using var log = opened;
        try
        {
            log.Info($"stakeout {verb} {string.Join(' ', options.Paths)}");
            var (result, extra) = work(new TrainingRun(log, TimeProvider.System), new ReadProgressReporter());
            File.WriteAllText(Path.Combine(outputDir, "classification_report.log"), result.Report + extra);
            log.Info($"wrote {Path.Combine(outputDir, "classification_report.log")}");
            using var signer = signKey is null ? null : ModelSigningKey.LoadPrivateKey(TrainOptionSet.PortablePath(signKey));
            var saved = result.Artifact.Save(modelOut, signer);
            log.Info($"wrote model {modelOut} (sha256 {saved.Sha256}{(signer is null ? "" : $", signed by key {signer.KeyId}")})");
            if (report)
            {
                log.Info($"wrote {ReportOptions.WriteTrainReport(result, saved.Sha256, outputDir)}");
            }

            if (validationDir is not null)
            {
                log.Info($"scoring validation data {validationDir}");
                var validation = Validation.Run(result, [TrainOptionSet.PortablePath(validationDir)], options.Threshold);
                File.WriteAllText(Path.Combine(outputDir, "validation_report.log"), validation.Report);
                File.WriteAllText(Path.Combine(outputDir, "malicious_ips.log"), validation.MaliciousIps);
                log.Info(string.Create(CultureInfo.InvariantCulture, $"validation: {validation.Rows:N0} rows scored, {validation.Flagged:N0} flagged; wrote validation_report.log and malicious_ips.log"));
            }

            return 0;
        }
        catch (Exception ex) when (ex is FlowDataException or TrainingDataException or ArgumentException or ArtifactException or IOException or InvalidDataException)
        {
            log.Info($"error: {ex.Message}");
            return Terminal.Fail(ex.Message, ExitCodes.For(ex));
        }
    }

    /// <summary>Reading progress on the console in 10 % steps (the log file keeps only the totals).</summary>
    private sealed class ReadProgressReporter : IProgress<ReadProgress>
    {
        private readonly ReadProgressSteps _steps = new();

        public void Report(ReadProgress value)
        {
            if (_steps.Next(value) is { } line)
            {
                Console.Error.WriteLine(line);
            }
        }
    }
}

/// <summary>application.log: every line time-stamped, written to the file and to stderr.</summary>
internal sealed class FileAndConsoleLog(string path, TimeProvider time) : ITrainingLog, IDisposable
{
    private readonly StreamWriter _writer = new(path, append: false) { AutoFlush = true };
    private readonly Lock _gate = new();

    public void Info(string message)
    {
        string line = $"{time.GetUtcNow():yyyy-MM-dd HH:mm:ss} INFO {message}";
        lock (_gate)
        {
            _writer.WriteLine(line);
            Console.Error.WriteLine(line);
        }
    }

    public void Dispose() => _writer.Dispose();
}

/// <summary>The options `train` and `tune` share, declared once.</summary>
internal sealed class TrainOptionSet
{
    public Argument<string[]> Paths { get; } = new("TRAIN_PATH")
    {
        Description = "Labelled flow CSV files or directories (searched recursively). Either path separator works.",
        Arity = ArgumentArity.OneOrMore,
    };

    public Option<string?> ValidationDir { get; } = new("--validation-dir") { Description = "Score this data after training: validation_report.log and malicious_ips.log." };

    public Option<string> OutputDir { get; } = new("--output-dir") { Description = "Where the logs go.", DefaultValueFactory = _ => "logs" };

    public Option<string?> ModelOut { get; } = new("--model-out") { Description = "The model artifact to write (default OUTPUT_DIR/model.stakeout)." };

    public Option<double> Threshold { get; } = new("--threshold") { Description = "Alert when the attack score (1 - P(BENIGN)) reaches this.", DefaultValueFactory = _ => 0.5 };

    public Option<bool> NoReport { get; } = ReportOptions.NoReportOption("model");

    public Option<string?> SignKey { get; } = new("--sign-key") { Description = "Sign the artifact with this Ed25519 private key (see `stakeout keys new`)." };

    public Option<string?> Labels { get; } = new("--labels") { Description = "class, family or binary (default: the finest level every training file has)." };

    public Option<string> Model { get; } = new("--model") { Description = "lightgbm (default) or seed-logreg (the prototype's 3-feature logistic regression, binary).", DefaultValueFactory = _ => "lightgbm" };

    public Option<int> Seed { get; } = new("--seed") { Description = "Seed of the split, sampling and training.", DefaultValueFactory = _ => 1 };

    public Option<double> TestFraction { get; } = new("--test-fraction") { Description = "Fraction held out for the test report.", DefaultValueFactory = _ => 0.3 };

    public Option<string> Split { get; } = new("--split") { Description = "random (stratified) or by-file (whole files held out).", DefaultValueFactory = _ => "random" };

    public Option<double?> TimeBudget { get; } = new("--time-budget") { Description = "Seconds allowed for boosting; rounds are cut to fit." };

    public Option<bool> UsePort { get; } = new("--use-port") { Description = "Use Destination Port as a feature (off: it names the capture's tools more than their behaviour)." };

    public Option<string[]> Exclude { get; } = new("--exclude-features") { Description = "Feature names never to use (comma or space separated), e.g. Init_Win_bytes_forward,Init_Win_bytes_backward.", AllowMultipleArgumentsPerToken = true };

    public Option<string?> SaveSplit { get; } = new("--save-split") { Description = "Write the exact train and test rows there (train.csv, test.csv) so other tools train on the same rows." };

    public Option<int> Rounds { get; } = new("--rounds") { Description = "Boosting rounds; with early stopping, the most allowed.", DefaultValueFactory = _ => new LightGbmSettings().Iterations };

    public Option<int> EarlyStopping { get; } = new("--early-stopping-rounds") { Description = "Stop boosting when the log-loss of a stratified 10 % slice of the training split (never the test split) has not improved for N rounds, keep the best round, and refit that many rounds on the whole training split; 0 (default) = exactly --rounds.", DefaultValueFactory = _ => new LightGbmSettings().EarlyStoppingRounds };

    public Option<double> LearningRate { get; } = new("--learning-rate") { Description = "Boosting learning rate.", DefaultValueFactory = _ => new LightGbmSettings().LearningRate };

    public Option<int> Leaves { get; } = new("--leaves") { Description = "Leaves per tree.", DefaultValueFactory = _ => new LightGbmSettings().Leaves };

    public Option<int> MinData { get; } = new("--min-data-in-leaf") { Description = "LightGBM min_data_in_leaf.", DefaultValueFactory = _ => new LightGbmSettings().MinDataInLeaf };

    public Option<double> L2 { get; } = new("--lambda-l2") { Description = "LightGBM lambda_l2.", DefaultValueFactory = _ => new LightGbmSettings().L2 };

    public Option<int> MaxBin { get; } = new("--max-bin") { Description = "LightGBM max_bin: histogram bins per feature.", DefaultValueFactory = _ => new LightGbmSettings().MaxBin };

    public Option<double> FeatureFraction { get; } = new("--feature-fraction") { Description = "Share of the features each tree may split on (LightGBM feature_fraction).", DefaultValueFactory = _ => new LightGbmSettings().FeatureFraction };

    public Option<double> BaggingFraction { get; } = new("--bagging-fraction") { Description = "Share of the training rows each round is fitted on, drawn afresh every round (LightGBM bagging_fraction).", DefaultValueFactory = _ => new LightGbmSettings().BaggingFraction };

    public Option<int> Threads { get; } = new("--threads") { Description = "Training threads; 0 (default) = one per core for large tables, one for small ones, where thread hand-offs cost more than they save.", DefaultValueFactory = _ => new LightGbmSettings().Threads };

    public Option<string> Imbalance { get; } = new("--imbalance") { Description = "benign-half (default: BENIGN carries half of the weight, the attack classes share the other half equally), balanced-weights (N / (K × n_class)), class-weights (square root of balanced), balanced-sampling or none.", DefaultValueFactory = _ => "benign-half" };

    public Option<bool> NoAnomaly { get; } = new("--no-anomaly") { Description = "Fit no anomaly model and no training profile (writes a model without anomaly score or drift checks)." };

    public Option<double> AnomalyFpr { get; } = new("--anomaly-fpr") { Description = "Share of held-out benign training flows allowed to reach the anomaly threshold.", DefaultValueFactory = _ => new AnomalySettings().TargetFpr };

    public Option<int> AnomalyBins { get; } = new("--anomaly-bins") { Description = "Histogram bins per feature of the anomaly model.", DefaultValueFactory = _ => new AnomalySettings().Bins };

    public void AddTo(Command command)
    {
        command.Options.Add(NoAnomaly);
        command.Options.Add(AnomalyFpr);
        command.Options.Add(AnomalyBins);
        command.Arguments.Add(Paths);
        command.Options.Add(ValidationDir);
        command.Options.Add(OutputDir);
        command.Options.Add(ModelOut);
        command.Options.Add(Threshold);
        command.Options.Add(SignKey);
        command.Options.Add(NoReport);
        command.Options.Add(Labels);
        command.Options.Add(Model);
        command.Options.Add(Seed);
        command.Options.Add(TestFraction);
        command.Options.Add(Split);
        command.Options.Add(TimeBudget);
        command.Options.Add(UsePort);
        command.Options.Add(Exclude);
        command.Options.Add(SaveSplit);
        command.Options.Add(Rounds);
        command.Options.Add(EarlyStopping);
        command.Options.Add(LearningRate);
        command.Options.Add(Leaves);
        command.Options.Add(MinData);
        command.Options.Add(L2);
        command.Options.Add(MaxBin);
        command.Options.Add(FeatureFraction);
        command.Options.Add(BaggingFraction);
        command.Options.Add(Threads);
        command.Options.Add(Imbalance);
    }

    public TrainOptions Build(ParseResult parse)
    {
return new TrainOptions
        {
            Paths = parse.GetValue(Paths)!,
            Data = new TrainingDataOptions
            {
                Level = parse.GetValue(Labels) is { } l ? TrainingTable.ParseLevel(l) : null,
                UsePort = parse.GetValue(UsePort),
                ExcludeFeatures = [.. (parse.GetValue(Exclude) ?? []).SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
            },
            Model = parse.GetValue(Model) switch
            {
                "lightgbm" => ModelChoice.LightGbm,
                "seed-logreg" => ModelChoice.SeedLogReg,
                var other => throw new ArgumentException($"--model '{other}' is not one of lightgbm, seed-logreg."),
            },
            LightGbm = new LightGbmSettings
            {
                Iterations = parse.GetValue(Rounds),
                EarlyStoppingRounds = parse.GetValue(EarlyStopping),
                LearningRate = parse.GetValue(LearningRate),
                Leaves = parse.GetValue(Leaves),
                MinDataInLeaf = parse.GetValue(MinData),
                L2 = parse.GetValue(L2),
                MaxBin = parse.GetValue(MaxBin),
                FeatureFraction = parse.GetValue(FeatureFraction),
                BaggingFraction = parse.GetValue(BaggingFraction),
                Threads = parse.GetValue(Threads),
                Imbalance = LightGbmSettings.ParseImbalance(parse.GetValue(Imbalance)!),
            },
            Seed = parse.GetValue(Seed),
            TestFraction = parse.GetValue(TestFraction),
            Split = parse.GetValue(Split) switch
            {
                "random" => SplitMode.Random,
                "by-file" => SplitMode.ByFile,
                var other => throw new ArgumentException($"--split '{other}' is not one of random, by-file."),
            },
            TimeBudget = parse.GetValue(TimeBudget) is { } s ? TimeSpan.FromSeconds(s) : null,
            Threshold = parse.GetValue(Threshold),
            SaveSplitDirectory = parse.GetValue(SaveSplit) is { } sp ? PortablePath(sp) : null,
            Anomaly = new AnomalySettings { Enabled = !parse.GetValue(NoAnomaly), TargetFpr = parse.GetValue(AnomalyFpr), Bins = parse.GetValue(AnomalyBins) },
        };
    }

    /// <summary>The prototype took Windows paths; on Linux a backslash becomes a separator.</summary>
    public static string PortablePath(string path) =>
        Path.DirectorySeparatorChar == '/' && !File.Exists(path) && !Directory.Exists(path) ? path.Replace('\\', '/') : path;
}
