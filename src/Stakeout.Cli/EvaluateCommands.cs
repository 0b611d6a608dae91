using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Stakeout.Evaluation;
using Stakeout.Ingest;
using Stakeout.Models;

namespace Stakeout.Cli;

/// <summary>`stakeout evaluate`: measures a stored model on labelled flow data.</summary>
internal static class EvaluateCommands
{
    /// <summary>The text report written under --output-dir.</summary>
    public const string TextReportFile = "evaluation_report.log";

    /// <summary>The JSON report written under --output-dir.</summary>
    public const string JsonReportFile = "evaluation.json";

    public static Command Create()
    {
        var model = new Option<FileInfo>("--model", "-m") { Description = "The model artifact to evaluate (written by `stakeout train`).", Required = true };
        var paths = new Argument<string[]>("DATA_PATH")
        {
            Description = "Labelled flow CSVs or directories (any layout the reader knows; *.csv, *.csv.gz, *.zip). Either path separator works.",
            Arity = ArgumentArity.OneOrMore,
        };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON on stdout instead of text." };
        var outputDir = new Option<DirectoryInfo?>("--output-dir", "-o") { Description = $"Also write {TextReportFile} and {JsonReportFile} into this directory." };
        var threshold = new Option<double?>("--threshold") { Description = "Attack-score threshold (1 - P(BENIGN)) instead of the model's own." };
        var dedupe = new Option<bool>("--dedupe") { Description = "Drop exact duplicate rows (same features and label, across files) before scoring. Off by default: every row given is scored." };
        var requireSigned = new Option<bool>("--require-signed") { Description = "Refuse a model artifact that carries no valid signature." };
        var level = new Option<string?>("--level") { Description = "Compare at this level (class, family, binary) instead of the finest level the model and the data share; it cannot be finer." };
        var merge = new Option<string[]>("--merge-labels")
        {
            Description = "FROM=TO: compare label FROM as TO, in the model's classes and in the data (repeatable; FROM may list several: DoS,DDoS=Flood), e.g. DDoS=DoS for data labelled by a taxonomy without DDoS.",
            AllowMultipleArgumentsPerToken = true,
        };
        var noPrAuc = new Option<bool>("--no-pr-auc") { Description = "Skip PR-AUC, which keeps 4 bytes per model class per row in memory." };
        var noReport = ReportOptions.NoReportOption("model");

        var evaluate = new Command(
            "evaluate",
            """
            Score labelled flow data with a stored model and report how good it is: accuracy, macro- and weighted-F1,
            per-class precision/recall/F1/support, PR-AUC, the confusion matrix, the BENIGN false-positive rate and the
            attack recall at the alert threshold. Per-class figures and the macro and weighted averages are over the
            classes present in the data; classes the model predicted that have no row in the data are listed apart with
            their counts (they stay in accuracy and the confusion matrix). The comparison is made at the finest level the model and the data share
            (class, family or binary): a class-level model on family-labelled data is scored as families.
            Features are streamed in batches (only class probabilities are kept, for PR-AUC; --no-pr-auc drops them).
            Every row read is scored unless --dedupe is given.

            Examples:
              stakeout evaluate --model logs/model.stakeout ../shared/data/cicids2017
              stakeout evaluate -m model.stakeout Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.csv --json > eval.json
              stakeout evaluate -m model.stakeout data/ --threshold 0.9 --output-dir reports/
              stakeout evaluate -m model.stakeout MachineLearningCSV.zip --dedupe --level binary --require-signed
              stakeout evaluate -m model.stakeout blind.csv --merge-labels DDoS=DoS --json
            """)
        {
            model, paths, json, outputDir, threshold, dedupe, requireSigned, level, merge, noPrAuc, noReport,
        };

        evaluate.SetAction(parse => Run(
            parse.GetValue(model)!,
            parse.GetValue(paths)!,
            parse.GetValue(json),
            parse.GetValue(outputDir),
            parse.GetValue(threshold),
            parse.GetValue(dedupe),
            parse.GetValue(requireSigned),
            parse.GetValue(level),
            parse.GetValue(merge) ?? [],
            !parse.GetValue(noPrAuc),
            !parse.GetValue(noReport)));
        return evaluate;
    }

    private static int Run(FileInfo modelFile, string[] paths, bool asJson, DirectoryInfo? outputDir, double? threshold, bool dedupe, bool requireSigned, string? level, string[] merges, bool prAuc, bool htmlReport = true)
    {
        EvaluationReport report;
        ModelArtifact? loaded = null;
        // The model report goes beside the text and JSON reports (with --output-dir) and needs the kept probabilities.
        htmlReport = htmlReport && outputDir is not null && prAuc;
        try
        {
            var options = new EvaluationOptions
            {
                Threshold = threshold,
                Dedupe = dedupe,
                Level = level is null ? null : EvaluationLevels.Parse(level),
                PrAuc = prAuc,
                Merges = LabelMerges.Parse(merges),
                Curves = htmlReport,
            };
            var artifact = ModelArtifact.Load(modelFile.FullName, new ArtifactLoadOptions { RequireSigned = requireSigned });
            loaded = artifact;
            var evaluator = new ModelEvaluator(artifact.CreateScorer(), artifact.Sha256, options);
            var read = new FlowCsvReader(evaluator.ReaderOptions()).Open(paths);
            report = Terminal.WithProgress("Scoring", read.TotalBytes, update => evaluator.Evaluate(read, new Progress(update)));
        }
        catch (FlowDataException ex)
        {
            return Fail($"{ex.Message} (the model {modelFile.Name} needs every feature listed in its manifest, and evaluation needs a Label column)", ExitCodes.For(ex));
        }
        catch (Exception ex) when (ex is ArtifactException or ArgumentException or FileNotFoundException or IOException)
        {
            return Fail(ex.Message, ExitCodes.For(ex));
        }

        string text = report.ToText();
        string jsonText = report.ToJson();
        if (outputDir is not null)
        {
            Directory.CreateDirectory(outputDir.FullName);
            File.WriteAllText(Path.Combine(outputDir.FullName, TextReportFile), text);
            File.WriteAllText(Path.Combine(outputDir.FullName, JsonReportFile), jsonText + "\n");
            if (htmlReport && ReportOptions.WriteEvaluationReport(report, loaded!, paths, outputDir.FullName) is { } error)
            {
                return Fail(error);
            }
        }

        if (asJson)
        {
            Console.Out.WriteLine(jsonText);
        }
        else
        {
            Console.Out.Write(text);
            Terminal.Err.MarkupLine(string.Create(
                CultureInfo.InvariantCulture,
                $"[grey]{report.Rows:N0} rows scored in {report.ElapsedSeconds:0.###} s at {EvaluationLevels.Name(report.Level)} level.[/]"));
        }

        return 0;
    }

    /// <summary>Errors go to scripts and logs unwrapped (Spectre would wrap them at 80 columns when stderr is redirected).</summary>
    private static int Fail(string message, int exitCode = ExitCodes.Failed)
    {
        if (!Console.IsErrorRedirected)
        {
            return Terminal.Fail(message, exitCode);
        }

        Console.Error.WriteLine($"error: {message}");
        return exitCode;
    }

    private sealed class Progress(Action<long, string> report) : IProgress<ReadProgress>
    {
        public void Report(ReadProgress value) => report(value.BytesDone, $"{Path.GetFileName(value.File)} · {value.RowsRead.ToString("N0", CultureInfo.InvariantCulture)} rows");
    }
}
