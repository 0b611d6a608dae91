using System.Text.Json;
using Stakeout.Reports.Tests;

namespace Stakeout.Integration.Tests;

/// <summary>The HTML reports as a user gets them from the CLI, on the shared CIC-IDS2017 extracts.</summary>
public sealed class CliReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-cli-report-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public void DataInspect_SharedExtractsWithReport_WritesValidSelfContainedReport()
    {
        string data = SharedData.Path("cicids2017");
        string families = SharedData.Path("cicids2017-families");
        string report = Path.Combine(_dir, "data");

        var (code, stdout, stderr) = CliInspectTests.Run("data", "inspect", data, families, "--json", "--report", report);

        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout); // the report line goes to stderr, so --json stays parseable
        var files = Directory.GetFiles(report).Where(f => !f.EndsWith(".html", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Append(Path.Combine(report, "data-report.html")).ToList();
        string html = ReportAssert.Valid(files, "data-report.html", 15); // accounting, classes, non-finite, 12 features, correlation
        Assert.Contains("Web Attack - Sql Injection", html, StringComparison.Ordinal);
        Assert.Contains("Infinity", html, StringComparison.Ordinal);
        Assert.Contains("report:", stderr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void TrainEvaluateDetect_SharedData_EachWritesItsReport()
    {
        string families = SharedData.Path("cicids2017-families");
        string benign = SharedData.Path("cicids2017", "mlcve_head200.csv");
        string xss = SharedData.Path("cicids2017", "trafficlabelling_webattack-xss_652.csv");
        string ddos = SharedData.Path("cicids2017", "trafficlabelling_ddos_1000.csv");
        string train = Path.Combine(_dir, "train");
        string eval = Path.Combine(_dir, "eval");
        string detect = Path.Combine(_dir, "detect");

        var t = CliInspectTests.Run("train", families, benign, "--labels", "family", "--rounds", "20", "--output-dir", train);
        Assert.True(t.Code == 0, t.Stderr);
        string model = Path.Combine(train, "model.stakeout");
        string trainHtml = ReportAssert.Valid(Listing(train, "model-report"), "model-report.html", 8);
        Assert.Contains("Exact TreeSHAP (the artifact", trainHtml, StringComparison.Ordinal); // the caption; the title is in the PNG
        Assert.True(File.Exists(Path.Combine(train, "model-report-importance-shap.svg")));
        Assert.Contains("held-out test split", trainHtml, StringComparison.Ordinal);

        var e = CliInspectTests.Run("evaluate", "--model", model, xss, ddos, "--output-dir", eval);
        Assert.True(e.Code == 0, e.Stderr);
        ReportAssert.Valid(Listing(eval, "model-report"), "model-report.html", 7);
        var noReport = CliInspectTests.Run("evaluate", "--model", model, xss, "--output-dir", Path.Combine(_dir, "eval2"), "--no-report");
        Assert.True(noReport.Code == 0, noReport.Stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "eval2", "model-report.html")));

        var d = CliInspectTests.Run("detect", "--model", model, xss, ddos, "-o", detect);
        Assert.True(d.Code == 0, d.Stderr);
        string detectHtml = ReportAssert.Valid(Listing(detect, "detection-report"), "detection-report.html", 5);
        Assert.Contains("172.16.0.1", detectHtml, StringComparison.Ordinal);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(detect, "summary.json")));
        long binned = summary.RootElement.GetProperty("attack_scores").GetProperty("counts").EnumerateArray().Sum(x => x.GetInt64());
        Assert.Equal(summary.RootElement.GetProperty("flows_scored").GetInt64(), binned);
    }

    private static List<string> Listing(string dir, string prefix) =>
        [.. Directory.GetFiles(dir, prefix + "-*").Order(StringComparer.Ordinal), Path.Combine(dir, prefix + ".html")];
}
