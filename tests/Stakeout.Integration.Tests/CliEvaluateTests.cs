using System.Text;
using System.Text.Json;
using Stakeout.Core;
using Stakeout.Models;

namespace Stakeout.Integration.Tests;

/// <summary>`stakeout evaluate` as a user runs it, on a tiny hand-written LightGBM model with known predictions.</summary>
public sealed class CliEvaluateTests : IDisposable
{
    /// <summary>
    /// Three classes on Flow Duration (canonical 1, LightGBM input 0), one tree per class:
    /// BENIGN x0 &lt;= 100 ? 3 : -3; DoS Hulk x0 &lt;= 10000 ? 2 : -3; PortScan x0 &lt;= 10000 ? -3 : 3.
    /// Softmax: duration &lt;= 100 gives P(BENIGN) 0.73 (attack score 0.27), up to 10000 DoS Hulk 0.99, above PortScan 0.99.
    /// </summary>
    private const string TinyModel = """
        tree
        version=v4
        num_class=3
        num_tree_per_iteration=3
        label_index=0
        max_feature_idx=0
        objective=multiclass num_class:3
        feature_names=Flow_Duration
        feature_infos=[0:1000000]

        Tree=0
        num_leaves=2
        num_cat=0
        split_feature=0
        split_gain=1
        threshold=100
        decision_type=2
        left_child=-1
        right_child=-2
        leaf_value=3 -3
        leaf_weight=50 50
        leaf_count=50 50
        internal_value=0
        internal_weight=100
        internal_count=100
        is_linear=0
        shrinkage=1


        Tree=1
        num_leaves=2
        num_cat=0
        split_feature=0
        split_gain=1
        threshold=10000
        decision_type=2
        left_child=-1
        right_child=-2
        leaf_value=2 -3
        leaf_weight=80 20
        leaf_count=80 20
        internal_value=0
        internal_weight=100
        internal_count=100
        is_linear=0
        shrinkage=1


        Tree=2
        num_leaves=2
        num_cat=0
        split_feature=0
        split_gain=1
        threshold=10000
        decision_type=2
        left_child=-1
        right_child=-2
        leaf_value=-3 3
        leaf_weight=80 20
        leaf_count=80 20
        internal_value=0
        internal_weight=100
        internal_count=100
        is_linear=0
        shrinkage=1


        end of trees

        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-cli-eval-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string SaveTinyModel()
    {
        var manifest = new ModelManifest
        {
            StakeoutVersion = "0.1.0-test",
            CreatedUtc = new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero),
            ModelKind = "lightgbm",
            Features = [new ManifestFeature(FeatureSchema.FlowDuration, "Flow Duration")],
            LabelLevel = "class",
            Classes = [LabelTaxonomy.Benign, "DoS Hulk", "PortScan"],
            BenignClass = LabelTaxonomy.Benign,
        };
        string path = Path.Combine(_dir, "tiny.stakeout");
        ModelArtifact.Create(manifest, Encoding.UTF8.GetBytes(TinyModel)).Save(path);
        return path;
    }

    private string WriteCsv(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Evaluate_TinyModelOnClassLabels_ReportsKnownFiguresAndWritesFiles()
    {
        string model = SaveTinyModel();
        // 4 BENIGN (one scored 500: a false alarm), 3 DoS Hulk (one scored 50: missed), 2 PortScan; a second file in the
        // original CIC layout (leading spaces, CRLF) with one more PortScan row.
        string a = WriteCsv("a.csv", "Flow Duration,Total Fwd Packets,Label\n10,1,BENIGN\n20,1,BENIGN\n30,1,BENIGN\n500,1,BENIGN\n"
            + "200,1,DoS Hulk\n300,1,DoS Hulk\n50,1,DoS Hulk\n20000,1,PortScan\n30000,1,PortScan\n");
        string b = WriteCsv("b.csv", " Destination Port, Flow Duration, Label\r\n80,40000,PortScan\r\n");
        string outDir = Path.Combine(_dir, "out");

        var (code, stdout, stderr) = CliInspectTests.Run("evaluate", "--model", model, a, b, "--json", "--output-dir", outDir);

        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal("class", root.GetProperty("level").GetString());
        Assert.Equal(10, root.GetProperty("rows").GetInt64());
        Assert.Equal(0.8, root.GetProperty("accuracy").GetDouble(), 12);
        Assert.Equal(0.25, root.GetProperty("benign_fpr").GetDouble(), 12);
        Assert.Equal(5.0 / 6, root.GetProperty("attack_recall").GetDouble(), 12);
        Assert.Equal(3, root.GetProperty("per_class").GetProperty("PortScan").GetProperty("support").GetInt64());
        Assert.Equal(1.0, root.GetProperty("per_class").GetProperty("PortScan").GetProperty("f1").GetDouble(), 12);
        Assert.Equal(2, root.GetProperty("files").GetArrayLength());
        Assert.True(root.GetProperty("reading").GetProperty("balanced").GetBoolean());
        Assert.Equal(64, root.GetProperty("model_sha256").GetString()!.Length);
        Assert.Contains("macro avg", File.ReadAllText(Path.Combine(outDir, "evaluation_report.log")), StringComparison.Ordinal);
        using var written = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "evaluation.json")));
        Assert.Equal(10, written.RootElement.GetProperty("rows").GetInt64());
    }

    [Fact]
    public void Evaluate_FamilyLabels_ComparesAtFamilyLevelAsText()
    {
        string model = SaveTinyModel();
        string data = WriteCsv("fam.csv", "Flow Duration,Label\n10,BENIGN\n500,DoS\n700,DoS\n90000,PortScan\n");

        var (code, stdout, stderr) = CliInspectTests.Run("evaluate", "-m", model, data);

        Assert.True(code == 0, stderr);
        Assert.Contains("Evaluation at family level on 4 rows", stdout, StringComparison.Ordinal);
        Assert.Contains("Confusion matrix", stdout, StringComparison.Ordinal);
        var dosRow = stdout.Split('\n').First(l => l.TrimStart().StartsWith("DoS ", StringComparison.Ordinal));
        Assert.Equal(["DoS", "1.0000", "1.0000", "1.0000", "2", "1.0000"], dosRow.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Evaluate_DataWithoutTheModelFeature_FailsNamingFileAndFeature()
    {
        string model = SaveTinyModel();
        string data = WriteCsv("nofeature.csv", "Total Fwd Packets,Label\n1,BENIGN\n");

        var (code, stdout, stderr) = CliInspectTests.Run("evaluate", "-m", model, data, "--json");

        Assert.Equal(2, code); // bad input data (docs/user-guide.md, exit codes)
        Assert.Equal(string.Empty, stdout);
        Assert.Contains("nofeature.csv", stderr, StringComparison.Ordinal);
        Assert.Contains("'Flow Duration'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_RequireSignedOnUnsignedModel_IsRefused()
    {
        string model = SaveTinyModel();
        string data = WriteCsv("d.csv", "Flow Duration,Label\n10,BENIGN\n");

        var (code, _, stderr) = CliInspectTests.Run("evaluate", "-m", model, data, "--require-signed");

        Assert.Equal(3, code); // integrity: a signature is required (docs/user-guide.md, exit codes)
        Assert.Contains("unsigned", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_ThresholdAndDedupe_AreApplied()
    {
        string model = SaveTinyModel();
        string data = WriteCsv("dup.csv", "Flow Duration,Label\n10,BENIGN\n10,BENIGN\n10,BENIGN\n500,DoS Hulk\n");

        var (code, stdout, stderr) = CliInspectTests.Run("evaluate", "-m", model, data, "--json", "--dedupe", "--threshold", "0.2");

        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(2, doc.RootElement.GetProperty("rows").GetInt64());
        Assert.Equal(2, doc.RootElement.GetProperty("reading").GetProperty("rows_dropped").GetInt64());
        // Attack score of a 10 µs flow is 0.27: above 0.2, so the benign row is a false alarm at this threshold.
        Assert.Equal(1.0, doc.RootElement.GetProperty("benign_fpr").GetDouble(), 12);
        Assert.Equal(0.2, doc.RootElement.GetProperty("threshold").GetDouble(), 12);
    }

    [SkippableFact]
    public void Evaluate_SharedCicFiles_ScoresEveryRowOfBothLayouts()
    {
        string model = SaveTinyModel();
        string data = SharedData.Path("cicids2017");

        var (code, stdout, stderr) = CliInspectTests.Run("evaluate", "-m", model, data, "--json");

        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(12180, root.GetProperty("rows").GetInt64()); // every row of the seven files (data/README.md counts)
        Assert.Equal("class", root.GetProperty("level").GetString());
        Assert.Equal(652, root.GetProperty("per_class").GetProperty("Web Attack - XSS").GetProperty("support").GetInt64());
        Assert.True(root.GetProperty("reading").GetProperty("balanced").GetBoolean());
    }

    [Fact]
    public void Help_ListsEvaluateWithExamplesAndOptions()
    {
        var (code, stdout, _) = CliInspectTests.Run("evaluate", "--help");

        Assert.Equal(0, code);
        Assert.Contains("Examples:", stdout, StringComparison.Ordinal);
        foreach (string option in new[] { "--model", "--json", "--output-dir", "--threshold", "--dedupe", "--require-signed" })
        {
            Assert.Contains(option, stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Evaluate_MissingModel_FailsNamingTheFile()
    {
        var (code, stdout, stderr) = CliInspectTests.Run("evaluate", "--model", "no/such/model.stakeout", "flows.csv");

        Assert.Equal(1, code);
        Assert.Contains("model.stakeout", stderr, StringComparison.Ordinal);
        Assert.Contains("no such model artifact", stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public void Evaluate_NotAnArtifact_FailsSayingWhy()
    {
        string file = Path.Combine(Path.GetTempPath(), $"stakeout-{Guid.NewGuid():N}.stakeout");
        File.WriteAllText(file, "Flow Duration,Label\n1,BENIGN\n");
        try
        {
            var (code, _, stderr) = CliInspectTests.Run("evaluate", "--model", file, file);

            Assert.Equal(2, code); // bad input data (docs/user-guide.md, exit codes)
            Assert.Contains(file, stderr, StringComparison.Ordinal);
            Assert.Contains("not a Stakeout model artifact", stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Evaluate_WithoutModelOption_IsRefused()
    {
        var (code, _, stderr) = CliInspectTests.Run("evaluate", "flows.csv");

        Assert.NotEqual(0, code);
        Assert.Contains("--model", stderr, StringComparison.Ordinal);
    }
}
