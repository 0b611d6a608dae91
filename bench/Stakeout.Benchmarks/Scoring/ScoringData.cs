using System.Text;
using Stakeout.Core;
using Stakeout.Ingest;
using Stakeout.Models;
using Stakeout.Models.Tests;

namespace Stakeout.Benchmarks.Scoring;

/// <summary>
/// The workload every scoring benchmark shares, built once per process: 100,000 real CIC-IDS2017 rows from
/// ../shared/data (the 18,491 rows there, cycled) and a realistic LightGBM model written as LightGBM text, deterministic:
/// 7 classes × 200 iterations × 31 leaves over all 78 features, split thresholds drawn from the real rows' values.
/// A peer benchmark (e.g. ML.NET's PredictionEngine) should score <see cref="Rows"/> so figures compare.
/// </summary>
internal static class ScoringData
{
    public const int RowCount = 100_000;
    public const int Classes = 7;
    public const int Iterations = 200;
    public const int Leaves = 31;

    private static readonly Lazy<(float[] Rows, string ModelText)> Data = new(Build);

    /// <summary>Row-major canonical rows (<see cref="FeatureSchema.Count"/> floats each), non-finite values as read.</summary>
    public static float[] Rows => Data.Value.Rows;

    /// <summary>The model as LightGBM text.</summary>
    public static string ModelText => Data.Value.ModelText;

    /// <summary>The model as an artifact (unsigned, never written).</summary>
    public static ModelArtifact Artifact() => ModelArtifact.Create(
        new ModelManifest
        {
            StakeoutVersion = "bench",
            ModelKind = "lightgbm",
            Features = FeatureSchema.Features.Select(f => new ManifestFeature(f.Index, f.Name)).ToList(),
            NonFinite = "nan-zero-inf-max",
            LabelLevel = "family",
            Classes = ["BENIGN", "DoS", "DDoS", "PortScan", "BruteForce", "WebAttack", "Bot"],
        },
        Encoding.UTF8.GetBytes(ModelText));

    private static (float[], string) Build()
    {
        string root = FindRepo();
        string data = Environment.GetEnvironmentVariable("STAKEOUT_SHARED_DATA") ?? Path.GetFullPath(Path.Combine(root, "..", "shared", "data"));
        var read = new FlowCsvReader(new FlowReaderOptions()).Open([Path.Combine(data, "cicids2017"), Path.Combine(data, "cicids2017-families")]);
        var real = new List<float>();
        foreach (var batch in read.ReadBatches())
        {
            real.AddRange(batch.Features.AsSpan(0, batch.Count * FeatureSchema.Count));
        }

        int realRows = real.Count / FeatureSchema.Count;
        if (realRows == 0)
        {
            throw new InvalidOperationException($"no rows read from {data}; the scoring benchmark needs ../shared/data (or STAKEOUT_SHARED_DATA).");
        }

        var rows = new float[RowCount * FeatureSchema.Count];
        for (int r = 0; r < RowCount; r++)
        {
            real.CopyTo((r % realRows) * FeatureSchema.Count, rows, r * FeatureSchema.Count, FeatureSchema.Count);
        }

        // Thresholds are values seen in the data (mapped as the scorer maps them), so trees route rows as trained ones do.
        var random = new Random(2017);
        double Threshold(Random rnd, int feature)
        {
            float v = real[(rnd.Next(realRows) * FeatureSchema.Count) + feature];
            return float.IsNaN(v) ? 0 : float.IsInfinity(v) ? (v > 0 ? float.MaxValue : -float.MaxValue) : v;
        }

        string text = RandomTrees.LightGbmText(random, Iterations, Classes, FeatureSchema.Count, Leaves, Threshold, withMissingTypes: false, exactLeaves: true);
        return (rows, text);
    }

    private static string FindRepo()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Stakeout.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Stakeout.slnx not found above the benchmark's output.");
    }
}
