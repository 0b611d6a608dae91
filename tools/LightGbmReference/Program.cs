using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Stakeout.Core;
using Stakeout.Ingest;
using Stakeout.Models;
using Stakeout.Tools.LightGbmReference;

// Usage: dotnet run --project tools/LightGbmReference -c Release [-- SHARED_DATA_DIR]
//        dotnet run --project tools/LightGbmReference -c Release -- predict MODEL.txt   (rows on stdin, one per line)
// Writes tests/Stakeout.Models.Tests/TestData/{lightgbm-reference,format-v1}/. Each run trains anew (deterministic
// LightGBM settings), so rerunning reproduces the models; the v1 artifact gets a new key and timestamp.
string repo = FindRepo();
if (args.Length >= 2 && args[0] == "predict")
{
    PredictStdin(args[1]);
    return 0;
}

string data = args.Length > 0 ? args[0] : Path.GetFullPath(Path.Combine(repo, "..", "shared", "data"));
string testData = Path.Combine(repo, "tests", "Stakeout.Models.Tests", "TestData");
var json = new JsonSerializerOptions
{
    WriteIndented = false,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
};

// Features every reference model uses (canonical indices): sizes, rates (with CIC's Infinity/NaN), header and window.
int[] features = [1, 2, 3, 4, 5, 6, 10, 14, 15, 34, 66, 67];

// 1. Multiclass, families, "nan-zero-inf-max": the policy the trainer writes. Also the format-v1 artifact.
string familiesFile = Path.Combine(data, "cicids2017-families", "cicids2017_sample_families.csv");
var (famRows, famLabels) = ReadRows([familiesFile]);
string[] families = LabelTaxonomy.Families.Where(f => famLabels.Contains(f)).ToArray();
float[] famY = famLabels.Select(l => (float)Array.IndexOf(families, l)).ToArray();
var famMapped = famRows.Select(r => Map(r)).ToList();
var trainIdx = Enumerable.Range(0, famRows.Count).Where(i => i % 5 != 0).ToArray();
var testIdx = Enumerable.Range(0, famRows.Count).Where(i => i % 5 == 0).ToArray();
string famParams = string.Create(CultureInfo.InvariantCulture, $"objective=multiclass num_class={families.Length} num_leaves=7 learning_rate=0.3 min_data_in_leaf=5 bagging_fraction=0.8 bagging_freq=1 feature_fraction=0.9 seed=7 deterministic=true force_row_wise=true num_threads=1 verbose=-1");
nint famBooster = LightGbmNative.Train(Matrix(trainIdx.Select(i => famMapped[i]), features), features.Length, trainIdx.Select(i => famY[i]).ToArray(), famParams, 12);
string famModel = LightGbmNative.Save(famBooster);
double[] famTestProb = LightGbmNative.Predict(famBooster, MatrixD(testIdx.Select(i => famMapped[i]), features), features.Length, 0, families.Length);
var metrics = Metrics(testIdx.Select(i => (int)famY[i]).ToArray(), famTestProb, families.Length);
var famCase = Reference(famBooster, famModel, "families-multiclass.txt", features, families, "nan-zero-inf-max",
    Pick(famRows, testIdx, 40).Concat(EdgeRows()).ToList(), mapForLightGbm: true);
LightGbmNative.Free(famBooster);

// 2. Binary BENIGN/ATTACK with "missing": NaN routed by LightGBM's own rules, infinities compared as values.
string[] binFiles =
[
    Path.Combine(data, "cicids2017", "mlcve_friday-ddos_head9998.csv"),
    Path.Combine(data, "cicids2017", "trafficlabelling_ddos_1000.csv"),
];
var (binRows, binLabels) = ReadRows(binFiles);
for (int i = 0; i < binRows.Count; i++)
{
    // Extra NaNs and zeros so that the NaN and Zero missing types are learned and exercised.
    if (i % 5 == 0)
    {
        binRows[i][14] = float.NaN;
    }

    if (i % 7 == 0)
    {
        binRows[i][66] = 0;
    }
}

float[] binY = binLabels.Select(l => l == LabelTaxonomy.Benign ? 0f : 1f).ToArray();
var binAll = Enumerable.Range(0, binRows.Count).ToArray();
var binPick = Pick(binRows, binAll, 50).Concat(EdgeRows()).ToList();
var cases = new List<ReferenceCase> { famCase };
foreach (var (name, extra) in new[] { ("binary-nan.txt", "use_missing=true"), ("binary-zero-as-missing.txt", "zero_as_missing=true") })
{
    string p = $"objective=binary num_leaves=15 learning_rate=0.2 min_data_in_leaf=10 bagging_fraction=0.7 bagging_freq=1 seed=11 deterministic=true force_row_wise=true num_threads=1 verbose=-1 {extra}";
    nint b = LightGbmNative.Train(Matrix(binRows, features), features.Length, binY, p, 15);
    cases.Add(Reference(b, LightGbmNative.Save(b), name, features, [LabelTaxonomy.Benign, LabelTaxonomy.Attack], "missing", binPick, mapForLightGbm: false));
    LightGbmNative.Free(b);
}

string refDir = Path.Combine(testData, "lightgbm-reference");
Directory.CreateDirectory(refDir);
foreach (var c in cases)
{
    File.WriteAllText(Path.Combine(refDir, c.Model), c.ModelText);
    File.WriteAllText(Path.Combine(refDir, Path.ChangeExtension(c.Model, ".expected.json")), JsonSerializer.Serialize(c with { ModelText = "" }, json));
}

// 3. The format-v1 artifact: the families model, signed, with a manifest as the trainer would write it.
string v1Dir = Path.Combine(testData, "format-v1");
Directory.CreateDirectory(v1Dir);
var manifest = new ModelManifest
{
    StakeoutVersion = "0.1.0",
    CreatedUtc = DateTimeOffset.UtcNow,
    ModelKind = "lightgbm",
    Features = features.Select(i => new ManifestFeature(i, FeatureSchema.Features[i].Name)).ToList(),
    NonFinite = "nan-zero-inf-max",
    LabelLevel = "family",
    Classes = families,
    BenignClass = LabelTaxonomy.Benign,
    Threshold = 0.5,
    ThresholdSource = "default",
    Training = new ManifestTrainingData
    {
        Files = [new ManifestDataFile("cicids2017-families/cicids2017_sample_families.csv", famRows.Count, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(familiesFile))))],
        RowsRead = famRows.Count,
        TrainRows = trainIdx.Length,
        TestRows = testIdx.Length,
        Split = "every-5th-row (reference generator)",
        TestFraction = 0.2,
        Seed = 7,
        ClassCounts = families.ToDictionary(f => f, f => (long)trainIdx.Count(i => famLabels[i] == f)),
    },
    Metrics = metrics,
    Hyperparameters = famParams.Split(' ').Select(kv => kv.Split('=')).ToDictionary(kv => kv[0], kv => kv[1]),
    Lineage = [],
};
using var key = ModelSigningKey.Create();
key.SavePublicKey(Path.Combine(v1Dir, "signer.pub"));
ModelArtifact.Create(manifest, System.Text.Encoding.UTF8.GetBytes(famModel)).Save(Path.Combine(v1Dir, "families-lightgbm.stakeout"), key);
File.WriteAllText(Path.Combine(v1Dir, "families-lightgbm.expected.json"), JsonSerializer.Serialize(famCase with { ModelText = "" }, json));
Console.WriteLine($"Wrote {cases.Count} reference cases to {refDir} and the v1 artifact to {v1Dir} (key {key.KeyId}).");
return 0;

static ReferenceCase Reference(nint booster, string modelText, string name, int[] features, string[] classes, string nonFinite, List<float[]> rows, bool mapForLightGbm)
{
    int k = classes.Length == 2 ? 1 : classes.Length;
    var input = MatrixD(rows.Select(r => mapForLightGbm ? Map(r) : r), features);
    double[] prob = LightGbmNative.Predict(booster, input, features.Length, 0, k);
    double[] raw = LightGbmNative.Predict(booster, input, features.Length, 1, k);
    double[] contrib = LightGbmNative.Predict(booster, input, features.Length, 3, k * (features.Length + 1));
    return new ReferenceCase(name, modelText, features, classes, nonFinite, rows.Select(r => r.ToArray()).ToList(),
        Chunk(prob, k), Chunk(raw, k), Chunk(contrib, k * (features.Length + 1)));
}

static List<double[]> Chunk(double[] values, int size) => values.Chunk(size).ToList();

static (List<float[]> Rows, List<string> Labels) ReadRows(string[] files)
{
    var read = new FlowCsvReader(new FlowReaderOptions { NonFinite = NonFinitePolicy.Keep }).Open(files);
    var rows = new List<float[]>();
    var labels = new List<string>();
    foreach (var batch in read.ReadBatches())
    {
        for (int i = 0; i < batch.Count; i++)
        {
            rows.Add(batch.Row(i).ToArray());
            var def = read.Labels[batch.LabelIds[i]];
            labels.Add(def.Level == LabelLevel.Class ? def.Family : def.Name);
        }
    }

    return (rows, labels);
}

static float[] Map(float[] row) =>
    row.Select(v => float.IsNaN(v) ? 0f : float.IsPositiveInfinity(v) ? float.MaxValue : float.IsNegativeInfinity(v) ? -float.MaxValue : v).ToArray();

static float[] Matrix(IEnumerable<float[]> rows, int[] features) => rows.SelectMany(r => features.Select(f => r[f])).ToArray();

static double[] MatrixD(IEnumerable<float[]> rows, int[] features) => rows.SelectMany(r => features.Select(f => (double)r[f])).ToArray();

static IEnumerable<float[]> Pick(List<float[]> rows, int[] candidates, int count) =>
    Enumerable.Range(0, count).Select(i => rows[candidates[(int)((long)i * candidates.Length / count)]]);

static IEnumerable<float[]> EdgeRows()
{
    yield return Enumerable.Repeat(float.NaN, FeatureSchema.Count).ToArray();
    yield return Enumerable.Repeat(0f, FeatureSchema.Count).ToArray();
    yield return Enumerable.Repeat(float.PositiveInfinity, FeatureSchema.Count).ToArray();
    yield return Enumerable.Repeat(float.NegativeInfinity, FeatureSchema.Count).ToArray();
    yield return Enumerable.Range(0, FeatureSchema.Count).Select(i => i % 2 == 0 ? float.NaN : 1e-36f).ToArray();
}

static Dictionary<string, double> Metrics(int[] truth, double[] prob, int k)
{
    int n = truth.Length;
    var predicted = Enumerable.Range(0, n).Select(i => Enumerable.Range(0, k).MaxBy(c => prob[(i * k) + c])).ToArray();
    double accuracy = (double)Enumerable.Range(0, n).Count(i => predicted[i] == truth[i]) / n;
    double f1Sum = 0;
    int present = 0;
    for (int c = 0; c < k; c++)
    {
        int tp = Enumerable.Range(0, n).Count(i => predicted[i] == c && truth[i] == c);
        int fp = Enumerable.Range(0, n).Count(i => predicted[i] == c && truth[i] != c);
        int fn = Enumerable.Range(0, n).Count(i => predicted[i] != c && truth[i] == c);
        if (tp + fn == 0)
        {
            continue;
        }

        present++;
        f1Sum += tp == 0 ? 0 : 2.0 * tp / ((2.0 * tp) + fp + fn);
    }

    return new Dictionary<string, double> { ["accuracy"] = Math.Round(accuracy, 6), ["macro_f1"] = Math.Round(f1Sum / present, 6) };
}

static void PredictStdin(string modelPath)
{
    nint booster = LightGbmNative.Load(File.ReadAllText(modelPath));
    string? line;
    while ((line = Console.ReadLine()) is not null)
    {
        if (line.Trim().Length == 0)
        {
            continue;
        }

        double[] row = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => s switch { "inf" => double.PositiveInfinity, "-inf" => double.NegativeInfinity, _ => double.Parse(s, CultureInfo.InvariantCulture) }).ToArray();
        double[] raw = LightGbmNative.Predict(booster, row, row.Length, 1, LightGbmNative.Classes(booster));
        double[] prob = LightGbmNative.Predict(booster, row, row.Length, 0, raw.Length);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"raw [{string.Join(", ", raw.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}] prob [{string.Join(", ", prob.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]"));
    }

    LightGbmNative.Free(booster);
}

static string FindRepo()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Stakeout.slnx")))
    {
        dir = dir.Parent;
    }

    return dir?.FullName ?? throw new InvalidOperationException("Stakeout.slnx not found above the tool's output.");
}

/// <summary>One reference model with LightGBM's own outputs for a set of canonical rows.</summary>
internal sealed record ReferenceCase(
    string Model,
    string ModelText,
    int[] Features,
    string[] Classes,
    string NonFinite,
    List<float[]> Rows,
    List<double[]> Probabilities,
    List<double[]> Raw,
    List<double[]> Contributions);
