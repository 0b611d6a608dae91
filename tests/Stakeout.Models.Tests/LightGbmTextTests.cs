using System.Text;
using Stakeout.Models.Scoring;
using static Stakeout.Models.Tests.TestModels;

namespace Stakeout.Models.Tests;

/// <summary>The parser refuses what it cannot score exactly, and says where and why.</summary>
public sealed class LightGbmTextTests
{
    private static readonly string[] Binary = ["BENIGN", "ATTACK"];

    [Fact]
    public void Parse_HandWrittenBinary_ReadsEveryField()
    {
        var model = LightGbmText.Parse(Encoding.UTF8.GetBytes(BinaryModel()), "m");

        Assert.Equal(LightGbmObjective.Binary, model.Objective);
        Assert.Equal(2, model.Trees.Count);
        Assert.Equal([0, 1], model.Trees[0].SplitFeature);
        Assert.Equal([10.0, 0.5], model.Trees[0].Threshold);
        Assert.Equal([1, -1], model.Trees[0].LeftChild);
        Assert.Equal([-2, -3], model.Trees[0].RightChild);
        Assert.Equal([30L, 50L, 20L], model.Trees[0].LeafCount);
        Assert.Equal(2, model.Trees[0].Depth);
        Assert.Equal([0.25], model.Trees[1].LeafValue);
    }

    [Theory]
    [InlineData("leaf_value=0.5 -1 2", "leaf_value=0.5 -1", ArtifactProblem.Malformed, "field 'leaf_value' has 2 values")]
    [InlineData("left_child=1 -1", "left_child=5 -1", ArtifactProblem.Malformed, "left_child[0]=5 points past the last node")]
    [InlineData("right_child=-2 -3", "right_child=-2 -9", ArtifactProblem.Malformed, "right_child[1]=-9 names leaf 8")]
    [InlineData("right_child=-2 -3", "right_child=-2 -1", ArtifactProblem.Malformed, "reaches leaf 0 a second time")]
    [InlineData("left_child=1 -1", "left_child=1 1", ArtifactProblem.Malformed, "reaches node 1 a second time")]
    [InlineData("internal_count=100 50", "internal_count=100 49", ArtifactProblem.Malformed, "internal_count[0]=100, but its children hold 99")]
    [InlineData("split_feature=0 1", "split_feature=0 2", ArtifactProblem.Malformed, "split_feature[1]=2 is outside 0..max_feature_idx=1")]
    [InlineData("decision_type=2 8", "decision_type=2 9", ArtifactProblem.SchemaIncompatible, "node 1 is a categorical split")]
    [InlineData("decision_type=2 8", "decision_type=2 14", ArtifactProblem.Malformed, "missing type 3")]
    [InlineData("num_cat=0\nsplit_feature=0 1", "num_cat=1\nsplit_feature=0 1", ArtifactProblem.SchemaIncompatible, "categorical splits (num_cat=1)")]
    [InlineData("is_linear=0\nshrinkage=1\n\nTree=1", "is_linear=1\nshrinkage=1\n\nTree=1", ArtifactProblem.SchemaIncompatible, "is a linear tree")]
    [InlineData("threshold=10 0.5", "threshold=10 abc", ArtifactProblem.Malformed, "threshold[1]='abc' is not a number")]
    [InlineData("version=v4", "version=v9", ArtifactProblem.SchemaIncompatible, "version 'v9'")]
    [InlineData("objective=binary sigmoid:1", "objective=lambdarank", ArtifactProblem.SchemaIncompatible, "objective 'lambdarank'")]
    [InlineData("objective=binary sigmoid:1", "objective=binary sigmoid:-1", ArtifactProblem.Malformed, "'sigmoid:-1' is not a positive number")]
    [InlineData("num_tree_per_iteration=1", "num_tree_per_iteration=2", ArtifactProblem.Malformed, "objective 'binary' needs num_class=1 and num_tree_per_iteration=1")]
    [InlineData("Tree=1", "Tree=2", ArtifactProblem.Malformed, "tree 2 where tree 1 should come")]
    [InlineData("shrinkage=1\n", "shrinkage=1\nleaf_magic=1\n", ArtifactProblem.Malformed, "unknown field 'leaf_magic'")]
    [InlineData("end of trees", "end of forest", ArtifactProblem.Malformed, "expected 'Tree=2', found 'end of forest'")]
    [InlineData("label_index=0", "average_output\nlabel_index=0", ArtifactProblem.SchemaIncompatible, "average_output")]
    [InlineData("feature_infos=none none", "feature_infos=none none\ntree_sizes=10 20", ArtifactProblem.Malformed, "tree_sizes[0]='10', but tree 0 takes")]
    public void Parse_BrokenModel_RefusedNamingLineAndField(string find, string replace, ArtifactProblem problem, string message)
    {
        string text = BinaryModel();
        Assert.Contains(find, text, StringComparison.Ordinal);
        int at = text.IndexOf(find, StringComparison.Ordinal);
        string broken = text[..at] + replace + text[(at + find.Length)..];

        var e = Assert.Throws<ArtifactException>(() => LightGbmText.Parse(Encoding.UTF8.GetBytes(broken), "model.txt"));

        Assert.Equal(problem, e.Problem);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.Matches(@"LightGBM model line \d+:", e.Message);
    }

    [Fact]
    public void Parse_CycleAmongNodes_Refused()
    {
        // node1 -> node2 -> node1: every index used once, but nodes 1 and 2 are not reachable from the root as a tree.
        string text = Header(1, 1, 0, "binary sigmoid:1") + """
            Tree=0
            num_leaves=4
            split_feature=0 0 0
            threshold=1 2 3
            decision_type=2 2 2
            left_child=-1 2 1
            right_child=-2 -3 -4
            leaf_value=1 2 3 4
            leaf_count=1 1 1 1
            internal_count=2 1 1

            end of trees
            """;

        var e = Assert.Throws<ArtifactException>(() => LightGbmText.Parse(Encoding.UTF8.GetBytes(text), "m"));

        Assert.Contains("not reachable from the root", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TruncatedBeforeEndOfTrees_Refused()
    {
        string text = BinaryModel();
        string truncated = text[..text.IndexOf("end of trees", StringComparison.Ordinal)];

        var e = Assert.Throws<ArtifactException>(() => LightGbmText.Parse(Encoding.UTF8.GetBytes(truncated), "m"));

        Assert.Contains("no 'end of trees' line", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MissingCounts_RefusedBecauseTreeShapNeedsThem()
    {
        string text = BinaryModel().Replace("leaf_count=30 50 20\n", "", StringComparison.Ordinal);

        var e = Assert.Throws<ArtifactException>(() => LightGbmText.Parse(Encoding.UTF8.GetBytes(text), "m"));

        Assert.Contains("tree 0 has no 'leaf_count' field", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RealLightGbmOutputWithTreeSizes_Accepted()
    {
        // Written by LightGBM 4.7 (tools/LightGbmReference): header, tree_sizes, trees, feature importances, parameters.
        string text = File.ReadAllText(TestData("lightgbm-reference", "binary-nan.txt"));

        var model = LightGbmText.Parse(Encoding.UTF8.GetBytes(text), "m");

        Assert.Equal(15, model.Trees.Count);
        Assert.Contains("tree_sizes=", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_FeatureCountDiffersFromManifest_SchemaIncompatible()
    {
        var e = Assert.Throws<ArtifactException>(() => LightGbm(BinaryModel(), [1, 14, 15], Binary));

        Assert.Equal(ArtifactProblem.SchemaIncompatible, e.Problem);
        Assert.Contains("max_feature_idx=1 (2 inputs), but the manifest lists 3 features", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_ClassCountDiffersFromManifest_SchemaIncompatible()
    {
        var e = Assert.Throws<ArtifactException>(() => LightGbm(MulticlassModel(), MulticlassFeatures, ["BENIGN", "DoS"]));

        Assert.Equal(ArtifactProblem.SchemaIncompatible, e.Problem);
        Assert.Contains("num_class=3, but the manifest lists 2 classes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MulticlassWithWrongTreesPerIteration_Refused()
    {
        string text = MulticlassModel().Replace("num_tree_per_iteration=3", "num_tree_per_iteration=1", StringComparison.Ordinal);

        var e = Assert.Throws<ArtifactException>(() => LightGbmText.Parse(Encoding.UTF8.GetBytes(text), "m"));

        Assert.Contains("num_tree_per_iteration=1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NotUtf8_Malformed()
    {
        var e = Assert.Throws<ArtifactException>(() => LightGbmText.Parse([0x74, 0x72, 0xFF, 0xFE], "m"));

        Assert.Equal(ArtifactProblem.Malformed, e.Problem);
    }
}
