using System.Net;
using Stakeout.Models;

namespace Stakeout.Integration.Tests;

/// <summary>`stakeout train` as the prototype's users ran it: Windows-style paths, the same log files.</summary>
public sealed class CliTrainTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "stakeout-train-" + Guid.NewGuid().ToString("N"));

    public CliTrainTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Validation(params string[] files)
    {
        string dir = Path.Combine(_root, "validation");
        Directory.CreateDirectory(dir);
        foreach (string f in files)
        {
            File.Copy(SharedData.Path("cicids2017", f), Path.Combine(dir, f));
        }

        return dir;
    }

    [SkippableFact]
    public void Train_BackslashPathsWithValidation_WritesPrototypeLogsAndRealIps()
    {
        string data = Path.GetRelativePath(Environment.CurrentDirectory, SharedData.Path("cicids2017")).Replace('/', '\\');
        string validation = Validation("trafficlabelling_ddos_1000.csv", "trafficlabelling_friday-ddos_head299.csv");
        string output = Path.Combine(_root, "logs");

        var (code, _, stderr) = CliInspectTests.Run("train", data, "--validation-dir", validation, "--output-dir", output.Replace('/', '\\'), "--rounds", "10", "--seed", "1");

        Assert.True(code == 0, stderr);
        string app = File.ReadAllText(Path.Combine(output, "application.log"));
        Assert.Contains("exact duplicates removed", app, StringComparison.Ordinal);
        Assert.Contains("exact duplicates removed", stderr, StringComparison.Ordinal);
        string report = File.ReadAllText(Path.Combine(output, "classification_report.log"));
        // Stakeout.Evaluation's report (as `stakeout evaluate` writes it), then training's own sections.
        Assert.Contains("Evaluation at class level on ", report, StringComparison.Ordinal);
        Assert.Contains("BENIGN false-positive rate:", report, StringComparison.Ordinal);
        Assert.Contains("Confusion matrix", report, StringComparison.Ordinal);
        Assert.Contains("feature importance", report, StringComparison.Ordinal);
        Assert.Contains("constant features", report, StringComparison.Ordinal);
        string validationReport = File.ReadAllText(Path.Combine(output, "validation_report.log"));
        Assert.Contains("rows scored: 1,299", validationReport, StringComparison.Ordinal);
        Assert.Contains("Confusion matrix", validationReport, StringComparison.Ordinal);
        var ips = File.ReadAllLines(Path.Combine(output, "malicious_ips.log"));
        Assert.NotEmpty(ips);
        Assert.All(ips, line => Assert.True(IPAddress.TryParse(line.Split(' ')[0], out _), $"not an address: {line}"));
        // The DDoS flows of CIC-IDS2017 come from the attacker's NAT address.
        Assert.StartsWith("172.16.0.1 ", ips[0], StringComparison.Ordinal);
        var model = ModelArtifact.Load(Path.Combine(output, "model.stakeout"));
        Assert.Equal("class", model.Manifest.LabelLevel);
        Assert.Equal(7, model.Manifest.Training.Files.Count);
    }

    [SkippableFact]
    public void Train_ValidationWithoutIpColumns_SaysSoInsteadOfInventingAddresses()
    {
        string validation = Validation("mlcve_ddos-benign_10rows.csv");
        string output = Path.Combine(_root, "logs");

        var (code, _, stderr) = CliInspectTests.Run("train", SharedData.Path("cicids2017"), "--validation-dir", validation, "--output-dir", output, "--rounds", "5", "--model-out", Path.Combine(_root, "m.stakeout"));

        Assert.True(code == 0, stderr);
        string ips = File.ReadAllText(Path.Combine(output, "malicious_ips.log"));
        Assert.Contains("no IP columns", ips, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_root, "m.stakeout")));
    }

    [SkippableFact]
    public void Train_SeedLogReg_WritesALogisticRegressionArtifact()
    {
        string output = Path.Combine(_root, "logs");

        var (code, _, stderr) = CliInspectTests.Run("train", SharedData.Path("cicids2017"), "--model", "seed-logreg", "--output-dir", output);

        Assert.True(code == 0, stderr);
        var model = ModelArtifact.Load(Path.Combine(output, "model.stakeout"));
        Assert.Equal("logistic-regression", model.Manifest.ModelKind);
        Assert.Equal(["BENIGN", "ATTACK"], model.Manifest.Classes);
    }

    [Fact]
    public void Train_UnknownLabelLevel_FailsNamingTheOption()
    {
        var (code, _, stderr) = CliInspectTests.Run("train", "x.csv", "--labels", "species");

        Assert.Equal(1, code);
        Assert.Contains("species", stderr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Train_SpeedOptions_ReachTheManifest()
    {
        string output = Path.Combine(_root, "logs");

        var (code, _, stderr) = CliInspectTests.Run("train", SharedData.Path("cicids2017"), "--output-dir", output, "--rounds", "5",
            "--threads", "1", "--max-bin", "63", "--feature-fraction", "0.8", "--bagging-fraction", "0.7");

        Assert.True(code == 0, stderr);
        var hyper = ModelArtifact.Load(Path.Combine(output, "model.stakeout")).Manifest.Hyperparameters;
        Assert.Equal("63", hyper["max_bin"]);
        Assert.Equal("0.8", hyper["feature_fraction"]);
        Assert.Equal("0.7", hyper["bagging_fraction"]);
        Assert.Contains("threads 1", File.ReadAllText(Path.Combine(output, "application.log")), StringComparison.Ordinal);
    }

    [Fact]
    public void Train_BaggingFractionOutOfRange_FailsNamingTheSetting()
    {
        var (code, _, stderr) = CliInspectTests.Run("train", "x.csv", "--bagging-fraction", "1.5");

        Assert.Equal(1, code);
        Assert.Contains("BaggingFraction", stderr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Train_FamilyLabelledValidationForAClassLevelModel_MeasuredAtFamilyLevel()
    {
        // A model trained on the original 15 labels, validated on the families sample: the labels are coarser than the
        // model, so the rows are measured at the family level they share (as `stakeout evaluate` does), not left out.
        string output = Path.Combine(_root, "logs");

        var (code, _, stderr) = CliInspectTests.Run("train", SharedData.Path("cicids2017"), "--validation-dir", SharedData.Path("cicids2017-families"),
            "--output-dir", output, "--rounds", "5", "--seed", "1");

        Assert.True(code == 0, stderr);
        Assert.Equal("class", ModelArtifact.Load(Path.Combine(output, "model.stakeout")).Manifest.LabelLevel);
        string report = File.ReadAllText(Path.Combine(output, "validation_report.log"));
        Assert.Contains("rows scored: 6,311", report, StringComparison.Ordinal);
        Assert.Contains("Evaluation at family level on 6,311 rows", report, StringComparison.Ordinal);
        Assert.Contains("Infiltration", report, StringComparison.Ordinal);
    }
}
