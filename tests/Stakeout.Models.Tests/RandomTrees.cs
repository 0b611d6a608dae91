using System.Globalization;
using System.Text;

namespace Stakeout.Models.Tests;

/// <summary>
/// Deterministic random LightGBM text models, grown the way LightGBM grows them (a leaf becomes node n, keeps its index
/// on the left and gives a new leaf to the right), with counts that add up. Shared with bench/Stakeout.Benchmarks.
/// </summary>
internal static class RandomTrees
{
    private static readonly int[] AllDecisionTypes = [0, 2, 4, 6, 8, 10];

    /// <summary>One tree's arrays, local indices as in the text format.</summary>
    public sealed record Tree(int[] SplitFeature, double[] Threshold, int[] DecisionType, int[] Left, int[] Right, double[] LeafValue, long[] LeafCount, long[] InternalCount);

    /// <summary>
    /// A whole model: <paramref name="classes"/> = 2 writes a binary model (one tree per iteration), more a multiclass one.
    /// <paramref name="threshold"/> draws a split value for a model input (default: uniform in [0, 1)); trees have
    /// 1..<paramref name="maxLeaves"/> leaves, or exactly <paramref name="maxLeaves"/> with <paramref name="exactLeaves"/>.
    /// </summary>
    public static string LightGbmText(Random random, int trees, int classes, int features, int maxLeaves,
        Func<Random, int, double>? threshold = null, bool withMissingTypes = true, bool allowEmptyLeaves = false, bool exactLeaves = false)
    {
        int perIteration = classes == 2 ? 1 : classes;
        var sb = new StringBuilder();
        sb.Append("tree\nversion=v4\n");
        sb.Append(CultureInfo.InvariantCulture, $"num_class={perIteration}\nnum_tree_per_iteration={perIteration}\nlabel_index=0\nmax_feature_idx={features - 1}\n");
        sb.Append(classes == 2 ? "objective=binary sigmoid:1\n" : $"objective=multiclass num_class:{classes}\n");
        sb.Append("feature_names=").AppendJoin(' ', Enumerable.Range(0, features).Select(i => $"f{i}")).Append('\n');
        sb.Append("feature_infos=").AppendJoin(' ', Enumerable.Repeat("none", features)).Append("\n\n");
        for (int t = 0; t < trees * perIteration; t++)
        {
            var tree = Grow(random, exactLeaves ? maxLeaves : random.Next(1, maxLeaves + 1), features, threshold, withMissingTypes, allowEmptyLeaves);
            Append(sb, t, tree);
        }

        sb.Append("end of trees\n\nparameters:\n[boosting: gbdt]\nend of parameters\n");
        return sb.ToString();
    }

    public static Tree Grow(Random random, int leaves, int features, Func<Random, int, double>? threshold = null, bool withMissingTypes = true, bool allowEmptyLeaves = false)
    {
        threshold ??= (r, _) => Math.Round(r.NextDouble(), 3);
        int inner = leaves - 1;
        var splitFeature = new int[inner];
        var thresholds = new double[inner];
        var decision = new int[inner];
        var left = new int[inner];
        var right = new int[inner];
        var leafParent = new int[leaves];
        leafParent[0] = -1;
        for (int n = 0; n < inner; n++)
        {
            int leaf = random.Next(0, n + 1); // split one of the n + 1 current leaves
            int parent = leafParent[leaf];
            if (parent >= 0)
            {
                if (left[parent] == ~leaf)
                {
                    left[parent] = n;
                }
                else
                {
                    right[parent] = n;
                }
            }

            splitFeature[n] = random.Next(features);
            thresholds[n] = threshold(random, splitFeature[n]);
            decision[n] = withMissingTypes ? AllDecisionTypes[random.Next(AllDecisionTypes.Length)] : 2;
            left[n] = ~leaf;
            right[n] = ~(n + 1);
            leafParent[leaf] = n;
            leafParent[n + 1] = n;
        }

        var leafValue = Enumerable.Range(0, leaves).Select(_ => Math.Round((random.NextDouble() * 2) - 1, 6)).ToArray();
        var leafCount = Enumerable.Range(0, leaves).Select(_ => (long)(allowEmptyLeaves && random.Next(5) == 0 ? 0 : random.Next(1, 100))).ToArray();
        if (leafCount.All(c => c == 0))
        {
            leafCount[0] = 1;
        }

        var internalCount = new long[inner];
        for (int n = inner - 1; n >= 0; n--)
        {
            // Children of node n have larger indices (LightGBM's growth order), so they are summed already.
            internalCount[n] = Count(left[n]) + Count(right[n]);
        }

        return new Tree(splitFeature, thresholds, decision, left, right, leafValue, leafCount, internalCount);

        long Count(int child) => child >= 0 ? internalCount[child] : leafCount[~child];
    }

    private static void Append(StringBuilder sb, int index, Tree t)
    {
        int leaves = t.LeafValue.Length;
        sb.Append(CultureInfo.InvariantCulture, $"Tree={index}\nnum_leaves={leaves}\nnum_cat=0\n");
        Line(sb, "split_feature", t.SplitFeature.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        Line(sb, "split_gain", t.SplitFeature.Select(_ => "1"));
        Line(sb, "threshold", t.Threshold.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
        Line(sb, "decision_type", t.DecisionType.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        Line(sb, "left_child", t.Left.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        Line(sb, "right_child", t.Right.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        Line(sb, "leaf_value", t.LeafValue.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
        Line(sb, "leaf_weight", t.LeafCount.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        Line(sb, "leaf_count", t.LeafCount.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        Line(sb, "internal_value", t.InternalCount.Select(_ => "0"));
        Line(sb, "internal_weight", t.InternalCount.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        Line(sb, "internal_count", t.InternalCount.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        sb.Append("is_linear=0\nshrinkage=1\n\n\n");
    }

    private static void Line(StringBuilder sb, string key, IEnumerable<string> values) => sb.Append(key).Append('=').AppendJoin(' ', values).Append('\n');
}
