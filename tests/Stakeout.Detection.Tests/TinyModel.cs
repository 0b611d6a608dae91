using System.Globalization;
using System.Text;
using Stakeout.Core;
using Stakeout.Models;

namespace Stakeout.Testing;

/// <summary>
/// A tiny LightGBM text model (three classes, one tree each) saved as a real artifact, so tests load it through
/// ModelArtifact like any trained model. Inputs: Destination Port, Flow Duration, Total Fwd Packets.
/// Class DDoS rises for destination port 80, BENIGN for short flows, PortScan for single-packet flows; the
/// DDoS leaf value lets two versions of the model differ (hot reload tests).
/// </summary>
internal static class TinyModel
{
    public static readonly string[] Classes = ["BENIGN", "DDoS", "PortScan"];

    public static readonly int[] Features = [FeatureSchema.DestinationPort, FeatureSchema.FlowDuration, FeatureSchema.TotalFwdPackets];

    public static string Text(double ddosLeaf = 2.0) =>
        "tree\nversion=v4\nnum_class=3\nnum_tree_per_iteration=3\nlabel_index=0\nmax_feature_idx=2\nobjective=multiclass num_class:3\n" +
        "feature_names=Column_0 Column_1 Column_2\nfeature_infos=none none none\n\n" +
        Tree(0, 1, 1_000_000, 1.0, -1.0) +
        Tree(1, 0, 80.5, ddosLeaf, -1.0, lowerBound: 79.5) +
        Tree(2, 2, 1.5, 1.5, -1.0) +
        "end of trees\n\nfeature_importances:\nColumn_0=1\n\nparameters:\n[boosting: gbdt]\nend of parameters\n\npandas_categorical:null\n";

    /// <summary>Writes the artifact to <paramref name="path"/> and returns it.</summary>
    public static ModelArtifact Save(string path, double ddosLeaf = 2.0, double threshold = 0.5)
    {
        var manifest = new ModelManifest
        {
            StakeoutVersion = "0.1.0-test",
            CreatedUtc = new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero),
            ModelKind = "lightgbm",
            Features = [.. Features.Select(i => new ManifestFeature(i, FeatureSchema.Features[i].Name))],
            LabelLevel = "class",
            Classes = Classes,
            BenignClass = "BENIGN",
            Threshold = threshold,
        };
        return ModelArtifact.Create(manifest, Encoding.UTF8.GetBytes(Text(ddosLeaf))).Save(path);
    }

    private static string Tree(int index, int feature, double threshold, double left, double right, double? lowerBound = null)
    {
        string I(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        if (lowerBound is { } lower)
        {
            // x <= lower -> right value; lower < x <= threshold -> left value; x > threshold -> right value.
            return $"Tree={index}\nnum_leaves=3\nnum_cat=0\nsplit_feature={feature} {feature}\nsplit_gain=1 1\nthreshold={I(lower)} {I(threshold)}\n" +
                   "decision_type=2 2\nleft_child=-1 -2\nright_child=1 -3\n" +
                   $"leaf_value={I(right)} {I(left)} {I(right)}\nleaf_weight=40 30 30\nleaf_count=40 30 30\n" +
                   "internal_value=0 0\ninternal_weight=100 60\ninternal_count=100 60\nis_linear=0\nshrinkage=1\n\n\n";
        }

        return $"Tree={index}\nnum_leaves=2\nnum_cat=0\nsplit_feature={feature}\nsplit_gain=1\nthreshold={I(threshold)}\n" +
               "decision_type=2\nleft_child=-1\nright_child=-2\n" +
               $"leaf_value={I(left)} {I(right)}\nleaf_weight=60 40\nleaf_count=60 40\n" +
               "internal_value=0\ninternal_weight=100\ninternal_count=100\nis_linear=0\nshrinkage=1\n\n\n";
    }
}
