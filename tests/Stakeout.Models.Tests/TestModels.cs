using System.Text;
using Stakeout.Core;
using Stakeout.Models.Scoring;

namespace Stakeout.Models.Tests;

/// <summary>Small fixtures: manifests, canonical rows and hand-written LightGBM text models.</summary>
internal static class TestModels
{
    public static string TestData(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "TestData", .. parts]);

    public static ModelManifest Manifest(string kind, int[] features, string[] classes, string nonFinite = NonFiniteMapping.NanZeroInfMax) => new()
    {
        StakeoutVersion = "0.1.0-test",
        CreatedUtc = new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero),
        ModelKind = kind,
        Features = features.Select(i => new ManifestFeature(i, FeatureSchema.Features[i].Name)).ToList(),
        NonFinite = nonFinite,
        LabelLevel = classes.Length == 2 ? "binary" : "family",
        Classes = classes,
        BenignClass = classes.Contains("BENIGN") ? "BENIGN" : classes[0],
    };

    public static IFlowScorer LightGbm(string text, int[] features, string[] classes, string nonFinite = NonFiniteMapping.NanZeroInfMax) =>
        ModelArtifact.Create(Manifest("lightgbm", features, classes, nonFinite), Encoding.UTF8.GetBytes(text)).CreateScorer();

    public static float[] Row(params (int Index, float Value)[] values)
    {
        var row = new float[FeatureSchema.Count];
        foreach (var (i, v) in values)
        {
            row[i] = v;
        }

        return row;
    }

    public static float[] Probabilities(IFlowScorer scorer, float[] row)
    {
        var p = new float[scorer.Classes.Count];
        scorer.Score(row, p);
        return p;
    }

    public static double[] Explain(IFlowScorer scorer, float[] row, int classIndex)
    {
        var c = new double[FeatureSchema.Count + 1];
        scorer.Explain(row, classIndex, c);
        return c;
    }

    public static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x));

    /// <summary>The header LightGBM writes, with the fields the parser reads.</summary>
    public static string Header(int numClass, int perIteration, int maxFeatureIdx, string objective) =>
        $"""
        tree
        version=v4
        num_class={numClass}
        num_tree_per_iteration={perIteration}
        label_index=0
        max_feature_idx={maxFeatureIdx}
        objective={objective}
        feature_names={string.Join(' ', Enumerable.Range(0, maxFeatureIdx + 1).Select(i => $"Column_{i}"))}
        feature_infos={string.Join(' ', Enumerable.Repeat("none", maxFeatureIdx + 1))}


        """;

    /// <summary>A one-leaf tree as LightGBM writes it (every array empty but leaf_value).</summary>
    public static string ConstantTree(int index, double value) =>
        $"""
        Tree={index}
        num_leaves=1
        num_cat=0
        split_feature=
        split_gain=
        threshold=
        decision_type=
        left_child=
        right_child=
        leaf_value={value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}
        leaf_weight=
        leaf_count=
        internal_value=
        internal_weight=
        internal_count=
        is_linear=0
        shrinkage=1


        """;

    public const string Footer = "end of trees\n\nfeature_importances:\nColumn_0=1\n\nparameters:\n[boosting: gbdt]\nend of parameters\n\npandas_categorical:null\n";

    /// <summary>
    /// Binary model on canonical features 1 (Flow Duration, input 0) and 14 (Flow Bytes/s, input 1).
    /// Tree 0:  node0: x0 &lt;= 10 ? node1 : leaf1 (-1.0, 50 rows)          decision_type 2: missing None, default left
    ///          node1: x1 &lt;= 0.5 ? leaf0 (0.5, 30 rows) : leaf2 (2.0, 20) decision_type 8: missing NaN, default right
    /// Tree 1:  a constant 0.25.
    /// </summary>
    public static string BinaryModel(string objective = "binary sigmoid:1") =>
        Header(1, 1, 1, objective) +
        """
        Tree=0
        num_leaves=3
        num_cat=0
        split_feature=0 1
        split_gain=10 5
        threshold=10 0.5
        decision_type=2 8
        left_child=1 -1
        right_child=-2 -3
        leaf_value=0.5 -1 2
        leaf_weight=30 50 20
        leaf_count=30 50 20
        internal_value=0 0
        internal_weight=100 50
        internal_count=100 50
        is_linear=0
        shrinkage=1


        """ + ConstantTree(1, 0.25) + Footer;

    public static readonly int[] BinaryFeatures = [1, 14];

    /// <summary>
    /// Three classes, one iteration, on canonical features 2 (Total Fwd Packets, input 0) and 3 (Total Backward Packets, input 1).
    /// Tree 0 (class 0): x0 &lt;= 1.5 ? 1.0 (60 rows) : −1.0 (40 rows)                       decision_type 0
    /// Tree 1 (class 1): x1 &lt;= 100 ? 0.0 (70 rows) : 2.0 (30 rows); 0 and NaN are missing (Zero type), default right: decision_type 4
    /// Tree 2 (class 2): x0 &lt;= 1e300 ? 0.5 (90 rows) : 3.0 (10 rows)                       decision_type 2
    /// </summary>
    public static string MulticlassModel() =>
        Header(3, 3, 1, "multiclass num_class:3") +
        """
        Tree=0
        num_leaves=2
        num_cat=0
        split_feature=0
        split_gain=1
        threshold=1.5
        decision_type=0
        left_child=-1
        right_child=-2
        leaf_value=1 -1
        leaf_weight=60 40
        leaf_count=60 40
        internal_value=0
        internal_weight=100
        internal_count=100
        is_linear=0
        shrinkage=1


        Tree=1
        num_leaves=2
        num_cat=0
        split_feature=1
        split_gain=1
        threshold=100
        decision_type=4
        left_child=-1
        right_child=-2
        leaf_value=0 2
        leaf_weight=70 30
        leaf_count=70 30
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
        threshold=1.0000000000000001e+300
        decision_type=2
        left_child=-1
        right_child=-2
        leaf_value=0.5 3
        leaf_weight=90 10
        leaf_count=90 10
        internal_value=0
        internal_weight=100
        internal_count=100
        is_linear=0
        shrinkage=1


        """ + Footer;

    public static readonly int[] MulticlassFeatures = [2, 3];

    public static readonly string[] ThreeClasses = ["BENIGN", "DoS", "PortScan"];
}
