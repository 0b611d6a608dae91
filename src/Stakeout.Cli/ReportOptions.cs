using System.CommandLine;
using Stakeout.Evaluation;
using Stakeout.Models;
using Stakeout.Reports;
using Stakeout.Training;

namespace Stakeout.Cli;

/// <summary>What `data inspect --report` asked for.</summary>
internal sealed record DataReportRequest(string Directory, IReadOnlyList<int>? Features, string? Error = null);

/// <summary>The report options of `data inspect`, `train`, `evaluate` and `detect`, and the one place that writes reports.</summary>
internal static class ReportOptions
{
    public static Option<string?> DataReportOption() => new("--report")
    {
        Description = "Also write an HTML data report (data-report.html, self-contained) with every plot as PNG and SVG into this directory.",
    };

    public static Option<string?> DataReportFeaturesOption() => new("--report-features")
    {
        Description = "Features the report draws: default (12 readable ones), all, or a comma-separated list of names.",
    };

    public static Option<bool> NoReportOption(string what) => new("--no-report")
    {
        Description = $"Do not write the HTML {what} report and its plots.",
    };

    public static DataReportRequest? DataRequest(string? directory, string? features)
    {
        if (directory is null)
        {
            return features is null ? null : new DataReportRequest("", null, "--report-features needs --report DIR.");
        }

        try
        {
            return new DataReportRequest(TrainOptionSet.PortablePath(directory), DataReportOptions.ParseFeatures(features));
        }
        catch (ArgumentException ex)
        {
            return new DataReportRequest(directory, null, ex.Message);
        }
    }

    public static int WriteData(DataReportRequest request, DataReportInput input)
    {
        try
        {
            var files = DataReport.Write(input, request.Directory, new DataReportOptions { Features = request.Features });
            Written(files);
            return 0;
        }
        catch (IOException ex)
        {
            return Terminal.Fail($"could not write the report into {request.Directory}: {ex.Message}");
        }
        catch (UnauthorizedAccessException ex)
        {
            return Terminal.Fail($"could not write the report into {request.Directory}: {ex.Message}");
        }
    }

    /// <summary>Says where the report is, on stderr, so --json output on stdout stays clean.</summary>
    public static void Written(IReadOnlyList<string> files) =>
        Console.Error.WriteLine($"report: {files[^1]} ({files.Count - 1} plot files beside it)");

    /// <summary>Rows of the test split explained with TreeSHAP for the importance plot (cost grows with rows × classes × trees).</summary>
    private const int ShapRows = 200;

    /// <summary>The model report of a training run, on its held-out test split; returns the HTML path.</summary>
    public static string WriteTrainReport(TrainResult result, string? sha256, string outputDir)
    {
        var accumulator = TestSplitScores.Accumulate(result);
        var metrics = accumulator.Compute(result.Test.Level);
        var curves = accumulator.Rows > 0 ? accumulator.ComputeCurves(result.Test.Level) : null;
        var t = result.Artifact.Manifest.Training;
        var input = new ModelReportInput(
            "Training report",
            $"The held-out test split: {t.TestRows:N0} of {t.TrainRows + t.TestRows:N0} rows after {t.DuplicatesRemoved:N0} duplicates were removed ({t.Split} split, seed {t.Seed}), never used for fitting.",
            metrics,
            curves,
            result.Artifact.Manifest,
            sha256)
        {
            Shap = ShapImportance.Compute(result.Artifact.CreateScorer(), TestSplitScores.SampleRows(result, ShapRows)),
        };
        var files = ModelReport.Write(input, outputDir);
        Written(files);
        return files[^1];
    }

    /// <summary>The model report of `evaluate`; returns an error message, or null when written.</summary>
    public static string? WriteEvaluationReport(EvaluationReport report, ModelArtifact artifact, IReadOnlyList<string> paths, string outputDir)
    {
        var input = new ModelReportInput(
            "Evaluation report",
            $"Every labelled row of {report.Files.Count} file(s) ({string.Join(", ", paths)}): {report.Rows:N0} rows scored at {EvaluationLevels.Name(report.Level)} level (the model is {EvaluationLevels.Name(report.ModelLevel)}-level, the data's labels {EvaluationLevels.Name(report.DataLevel)}-level).",
            report.Metrics,
            report.Curves,
            artifact.Manifest,
            artifact.Sha256);
        try
        {
            Written(ModelReport.Write(input, outputDir));
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"could not write the model report into {outputDir}: {ex.Message}";
        }
    }
}
