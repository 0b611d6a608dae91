using System.CommandLine;
using System.Globalization;
using Stakeout.Ingest;
using Stakeout.Models;
using Stakeout.Training;

namespace Stakeout.Cli;

/// <summary>`stakeout train`: train a model on labelled flows and write it with its reports (prototype-compatible logs).</summary>
internal static class TrainCommands
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("TRAIN_PATH")
        {
            Description = "Labelled flow CSV files or directories (searched recursively). Either path separator works.",
            Arity = ArgumentArity.OneOrMore,
        };
        var validationDir = new Option<string?>("--validation-dir") { Description = "Score this data after training: validation_report.log and malicious_ips.log." };
        var outputDir = new Option<string>("--output-dir") { Description = "Where the logs go.", DefaultValueFactory = _ => "logs" };
        var modelOut = new Option<string?>("--model-out") { Description = "The model artifact to write (default OUTPUT_DIR/model.stakeout)." };
        var threshold = new Option<double>("--threshold") { Description = "Alert when the attack score (1 - P(BENIGN)) reaches this.", DefaultValueFactory = _ => 0.5 };
        var signKey = new Option<string?>("--sign-key") { Description = "Sign the artifact with this Ed25519 private key (see `stakeout keys new`)." };
        var labels = new Option<string?>("--labels") { Description = "class, family or binary (default: the finest level every training file has)." };
        var model = new Option<string>("--model") { Description = "lightgbm (default) or seed-logreg (the prototype's 3-feature logistic regression, binary).", DefaultValueFactory = _ => "lightgbm" };
        var seed = new Option<int>("--seed") { Description = "Seed of the split, sampling and training.", DefaultValueFactory = _ => 1 };
        var testFraction = new Option<double>("--test-fraction") { Description = "Fraction held out for the test report.", DefaultValueFactory = _ => 0.3 };
        var split = new Option<string>("--split") { Description = "random (stratified) or by-file (whole files held out).", DefaultValueFactory = _ => "random" };
        var timeBudget = new Option<double?>("--time-budget") { Description = "Seconds allowed for boosting; rounds are cut to fit." };
        var usePort = new Option<bool>("--use-port") { Description = "Use Destination Port as a feature (off: it names the capture's tools more than their behaviour)." };
        var exclude = new Option<string[]>("--exclude-features") { Description = "Feature names never to use (comma or space separated), e.g. Init_Win_bytes_forward,Init_Win_bytes_backward.", AllowMultipleArgumentsPerToken = true };
        var saveSplit = new Option<string?>("--save-split") { Description = "Write the exact train and test rows there (train.csv, test.csv) so other tools train on the same rows." };
        var rounds = new Option<int>("--rounds") { Description = "Boosting rounds.", DefaultValueFactory = _ => new LightGbmSettings().Iterations };
        var learningRate = new Option<double>("--learning-rate") { Description = "Boosting learning rate.", DefaultValueFactory = _ => new LightGbmSettings().LearningRate };
        var leaves = new Option<int>("--leaves") { Description = "Leaves per tree.", DefaultValueFactory = _ => new LightGbmSettings().Leaves };
        var minData = new Option<int>("--min-data-in-leaf") { Description = "LightGBM min_data_in_leaf.", DefaultValueFactory = _ => new LightGbmSettings().MinDataInLeaf };
        var l2 = new Option<double>("--lambda-l2") { Description = "LightGBM lambda_l2.", DefaultValueFactory = _ => new LightGbmSettings().L2 };
        var imbalance = new Option<string>("--imbalance") { Description = "class-weights (default), balanced-sampling or none.", DefaultValueFactory = _ => "class-weights" };

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
            """)
        {
            paths, validationDir, outputDir, modelOut, threshold, signKey, labels, model, seed, testFraction, split, timeBudget,
            usePort, exclude, saveSplit, rounds, learningRate, leaves, minData, l2, imbalance,
        };

        train.SetAction(parse =>
        {
            string dir = PortablePath(parse.GetValue(outputDir)!);
            try
            {
                var options = new TrainOptions
                {
                    Paths = parse.GetValue(paths)!,
                    Data = new TrainingDataOptions
                    {
                        Level = parse.GetValue(labels) is { } l ? TrainingTable.ParseLevel(l) : null,
                        UsePort = parse.GetValue(usePort),
                        ExcludeFeatures = [.. (parse.GetValue(exclude) ?? []).SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
                    },
                    Model = parse.GetValue(model) switch
                    {
                        "lightgbm" => ModelChoice.LightGbm,
                        "seed-logreg" => ModelChoice.SeedLogReg,
                        var other => throw new ArgumentException($"--model '{other}' is not one of lightgbm, seed-logreg."),
                    },
                    LightGbm = new LightGbmSettings
                    {
                        Iterations = parse.GetValue(rounds),
                        LearningRate = parse.GetValue(learningRate),
                        Leaves = parse.GetValue(leaves),
                        MinDataInLeaf = parse.GetValue(minData),
                        L2 = parse.GetValue(l2),
                        Imbalance = parse.GetValue(imbalance) switch
                        {
                            "class-weights" => ImbalanceHandling.ClassWeights,
                            "balanced-sampling" => ImbalanceHandling.BalancedSampling,
                            "none" => ImbalanceHandling.None,
                            var other => throw new ArgumentException($"--imbalance '{other}' is not one of class-weights, balanced-sampling, none."),
                        },
                    },
                    Seed = parse.GetValue(seed),
                    TestFraction = parse.GetValue(testFraction),
                    Split = parse.GetValue(split) switch
                    {
                        "random" => SplitMode.Random,
                        "by-file" => SplitMode.ByFile,
                        var other => throw new ArgumentException($"--split '{other}' is not one of random, by-file."),
                    },
                    TimeBudget = parse.GetValue(timeBudget) is { } s ? TimeSpan.FromSeconds(s) : null,
                    Threshold = parse.GetValue(threshold),
                    SaveSplitDirectory = parse.GetValue(saveSplit) is { } sp ? PortablePath(sp) : null,
                };
                return Train(options, dir, parse.GetValue(modelOut) is { } m ? PortablePath(m) : Path.Combine(dir, "model.stakeout"), parse.GetValue(validationDir), parse.GetValue(signKey));
            }
            catch (ArgumentException ex)
            {
                return Terminal.Fail(ex.Message);
            }
        });
        return train;
    }

    private static int Train(TrainOptions options, string outputDir, string modelOut, string? validationDir, string? signKey)
    {
        Directory.CreateDirectory(outputDir);
        using var log = new FileAndConsoleLog(Path.Combine(outputDir, "application.log"), TimeProvider.System);
        try
        {
            log.Info($"stakeout train {string.Join(' ', options.Paths)}");
            var run = new TrainingRun(log, TimeProvider.System);
            var result = run.Execute(options, new ReadProgressReporter());
            File.WriteAllText(Path.Combine(outputDir, "classification_report.log"), result.Report);
            log.Info($"wrote {Path.Combine(outputDir, "classification_report.log")}");
            using var signer = signKey is null ? null : ModelSigningKey.LoadPrivateKey(PortablePath(signKey));
            var saved = result.Artifact.Save(modelOut, signer);
            log.Info($"wrote model {modelOut} (sha256 {saved.Sha256}{(signer is null ? "" : $", signed by key {signer.KeyId}")})");
            if (validationDir is not null)
            {
                log.Info($"scoring validation data {validationDir}");
                var validation = Validation.Run(result, [validationDir], options.Threshold);
                File.WriteAllText(Path.Combine(outputDir, "validation_report.log"), validation.Report);
                File.WriteAllText(Path.Combine(outputDir, "malicious_ips.log"), validation.MaliciousIps);
                log.Info(string.Create(CultureInfo.InvariantCulture, $"validation: {validation.Rows:N0} rows scored, {validation.Flagged:N0} flagged; wrote validation_report.log and malicious_ips.log"));
            }

            return 0;
        }
        catch (Exception ex) when (ex is FlowDataException or TrainingDataException or ArgumentException or ArtifactException or IOException or InvalidDataException)
        {
            log.Info($"error: {ex.Message}");
            return Terminal.Fail(ex.Message);
        }
    }

    /// <summary>The prototype took Windows paths; on Linux a backslash becomes a separator.</summary>
    private static string PortablePath(string path) =>
        Path.DirectorySeparatorChar == '/' && !File.Exists(path) && !Directory.Exists(path) ? path.Replace('\\', '/') : path;

    /// <summary>Reading progress on the console in 10 % steps (the log file keeps only the totals).</summary>
    private sealed class ReadProgressReporter : IProgress<ReadProgress>
    {
        private long _lastStep = -1;

        public void Report(ReadProgress value)
        {
            long step = value.BytesTotal <= 0 ? 10 : value.BytesDone * 10 / value.BytesTotal;
            if (step != Interlocked.Exchange(ref _lastStep, step))
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  reading {step * 10,3} % · {Path.GetFileName(value.File)} · {value.RowsRead:N0} rows"));
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
