using System.CommandLine;
using Stakeout.Reports;

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
}
