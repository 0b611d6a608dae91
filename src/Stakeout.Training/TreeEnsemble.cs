using System.Globalization;
using System.Text;
using Stakeout.Core;

namespace Stakeout.Training;

/// <summary>
/// One regression tree as LightGBM writes it: internal nodes 0..L-2 with a split on model input
/// <see cref="SplitFeature"/>, value &lt;= <see cref="Threshold"/> going left; a child index &lt; 0 is leaf ~index.
/// </summary>
internal sealed record GbdtTree(int[] SplitFeature, double[] SplitGain, double[] Threshold, int[] Left, int[] Right, double[] LeafValue)
{
    public int Leaves => LeafValue.Length;

    /// <summary>The leaf row <paramref name="inputs"/> reaches.</summary>
    public int LeafOf(ReadOnlySpan<float> inputs)
    {
        if (Left.Length == 0)
        {
            return 0;
        }

        int node = 0;
        while (true)
        {
            int next = inputs[SplitFeature[node]] <= Threshold[node] ? Left[node] : Right[node];
            if (next < 0)
            {
                return ~next;
            }

            node = next;
        }
    }
}

/// <summary>
/// A boosted tree ensemble in LightGBM's layout (tree t belongs to class t % TreesPerIteration), with the node covers
/// (rows reaching each node) TreeSHAP needs. Writes LightGBM's text model format ("version=v4") and scores rows by a plain
/// walk, which is the reference the exporter is tested against.
/// </summary>
internal sealed class GbdtModel
{
    public GbdtModel(IReadOnlyList<GbdtTree> trees, int treesPerIteration, bool binary, double sigmoid, IReadOnlyList<int> features, float[] featureMin, float[] featureMax)
    {
        Trees = trees;
        TreesPerIteration = treesPerIteration;
        Binary = binary;
        Sigmoid = sigmoid;
        Features = features;
        FeatureMin = featureMin;
        FeatureMax = featureMax;
        LeafCounts = [.. trees.Select(t => new long[t.Leaves])];
        InternalCounts = [.. trees.Select(t => new long[t.Left.Length])];
    }

    public IReadOnlyList<GbdtTree> Trees { get; }

    public int TreesPerIteration { get; }

    public bool Binary { get; }

    public double Sigmoid { get; }

    /// <summary>Canonical feature index of each model input.</summary>
    public IReadOnlyList<int> Features { get; }

    public float[] FeatureMin { get; }

    public float[] FeatureMax { get; }

    public long[][] LeafCounts { get; }

    public long[][] InternalCounts { get; }

    public int Iterations => Trees.Count / TreesPerIteration;

    /// <summary>This model followed by <paramref name="more"/>'s rounds (continued training); every tree keeps its covers.</summary>
    public GbdtModel Append(GbdtModel more)
    {
        if (more.TreesPerIteration != TreesPerIteration || !more.Features.SequenceEqual(Features))
        {
            throw new InvalidOperationException("only a model with the same classes and features can be appended.");
        }

        var min = FeatureMin.Zip(more.FeatureMin, Math.Min).ToArray();
        var max = FeatureMax.Zip(more.FeatureMax, Math.Max).ToArray();
        var joined = new GbdtModel([.. Trees, .. more.Trees], TreesPerIteration, Binary, Sigmoid, Features, min, max);
        for (int t = 0; t < joined.Trees.Count; t++)
        {
            var (leaves, internals) = t < Trees.Count ? (LeafCounts[t], InternalCounts[t]) : (more.LeafCounts[t - Trees.Count], more.InternalCounts[t - Trees.Count]);
            leaves.CopyTo(joined.LeafCounts[t], 0);
            internals.CopyTo(joined.InternalCounts[t], 0);
        }

        return joined;
    }

    /// <summary>
    /// This model with a class added: every round gains a tree that outputs 0 for the new class (its raw score starts at
    /// 0, as if it had never been seen), placed last in each round.
    /// </summary>
    public GbdtModel WithExtraClass()
    {
        if (Binary)
        {
            throw new InvalidOperationException("a binary model cannot gain a class; retrain at class or family level.");
        }

        int k = TreesPerIteration;
        var trees = new List<GbdtTree>();
        var leafCounts = new List<long[]>();
        var internalCounts = new List<long[]>();
        for (int it = 0; it < Iterations; it++)
        {
            for (int c = 0; c < k; c++)
            {
                trees.Add(Trees[(it * k) + c]);
                leafCounts.Add(LeafCounts[(it * k) + c]);
                internalCounts.Add(InternalCounts[(it * k) + c]);
            }

            trees.Add(new GbdtTree([], [], [], [], [], [0]));
            leafCounts.Add([LeafCounts[it * k].Sum()]);
            internalCounts.Add([]);
        }

        var model = new GbdtModel(trees, k + 1, false, Sigmoid, Features, FeatureMin, FeatureMax);
        for (int t = 0; t < trees.Count; t++)
        {
            leafCounts[t].CopyTo(model.LeafCounts[t], 0);
            internalCounts[t].CopyTo(model.InternalCounts[t], 0);
        }

        return model;
    }

    /// <summary>
    /// Reads LightGBM's text model format (as <see cref="ToLightGbmText"/> or LightGBM itself writes it). Model input j
    /// is canonical feature <paramref name="features"/>[j]. Categorical splits and linear trees are refused.
    /// </summary>
    public static GbdtModel Parse(string text, IReadOnlyList<int> features)
    {
        ArgumentNullException.ThrowIfNull(text);
        var header = new Dictionary<string, string>(StringComparer.Ordinal);
        var blocks = new List<Dictionary<string, string>>();
        Dictionary<string, string>? current = null;
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.StartsWith("end of trees", StringComparison.Ordinal))
            {
                break;
            }

            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                continue;
            }

            string key = line[..eq], value = line[(eq + 1)..];
            if (key == "Tree")
            {
                current = new Dictionary<string, string>(StringComparer.Ordinal);
                blocks.Add(current);
            }
            else
            {
                (current ?? header)[key] = value;
            }
        }

        string objective = Get(header, "objective", "header");
        bool binary = objective.StartsWith("binary", StringComparison.Ordinal);
        double sigmoid = 1;
        if (binary && objective.IndexOf("sigmoid:", StringComparison.Ordinal) is int at && at >= 0)
        {
            sigmoid = double.Parse(objective[(at + 8)..].Split(' ')[0], CultureInfo.InvariantCulture);
        }

        int perIteration = int.Parse(Get(header, "num_tree_per_iteration", "header"), CultureInfo.InvariantCulture);
        var trees = new List<GbdtTree>();
        var covers = new List<(long[] Leaves, long[] Internals)>();
        for (int t = 0; t < blocks.Count; t++)
        {
            var b = blocks[t];
            string where = $"Tree={t}";
            if (b.TryGetValue("num_cat", out var cat) && cat != "0" || b.TryGetValue("is_linear", out var linear) && linear != "0")
            {
                throw new InvalidDataException($"{where}: categorical splits and linear trees are not supported.");
            }

            var leaves = Doubles(Get(b, "leaf_value", where));
            if (leaves.Length == 1)
            {
                trees.Add(new GbdtTree([], [], [], [], [], leaves));
            }
            else
            {
                trees.Add(new GbdtTree(
                    Ints(Get(b, "split_feature", where)), Doubles(Get(b, "split_gain", where)), Doubles(Get(b, "threshold", where)),
                    Ints(Get(b, "left_child", where)), Ints(Get(b, "right_child", where)), leaves));
            }

            covers.Add((Longs(b.GetValueOrDefault("leaf_count", "")), Longs(b.GetValueOrDefault("internal_count", ""))));
        }

        var infos = header.GetValueOrDefault("feature_infos", "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var min = new float[features.Count];
        var max = new float[features.Count];
        for (int j = 0; j < features.Count && j < infos.Length; j++)
        {
            if (infos[j].StartsWith('[') && infos[j].Split(':') is [var lo, var hi])
            {
                min[j] = float.Parse(lo[1..], CultureInfo.InvariantCulture);
                max[j] = float.Parse(hi[..^1], CultureInfo.InvariantCulture);
            }
        }

        var model = new GbdtModel(trees, perIteration, binary, sigmoid, features, min, max);
        for (int t = 0; t < trees.Count; t++)
        {
            if (covers[t].Leaves.Length == model.LeafCounts[t].Length)
            {
                covers[t].Leaves.CopyTo(model.LeafCounts[t], 0);
            }

            if (covers[t].Internals.Length == model.InternalCounts[t].Length)
            {
                covers[t].Internals.CopyTo(model.InternalCounts[t], 0);
            }
        }

        return model;

        static string Get(Dictionary<string, string> d, string key, string where) =>
            d.TryGetValue(key, out var v) ? v : throw new InvalidDataException($"LightGBM model text: {where} has no '{key}'.");
        static double[] Doubles(string s) => [.. s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture))];
        static int[] Ints(string s) => [.. s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => int.Parse(v, CultureInfo.InvariantCulture))];
        static long[] Longs(string s) => [.. s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => long.Parse(v, CultureInfo.InvariantCulture))];
    }

    /// <summary>Covers of the trees from <paramref name="firstTree"/> on, counted on <paramref name="rows"/> (the rest keep theirs).</summary>
    public void CountCoversFrom(int firstTree, float[] rows, int rowCount)
    {
        int width = Features.Count;
        Parallel.For(firstTree, Trees.Count, t =>
        {
            var tree = Trees[t];
            Array.Clear(LeafCounts[t]);
            for (int r = 0; r < rowCount; r++)
            {
                LeafCounts[t][tree.LeafOf(rows.AsSpan(r * width, width))]++;
            }

            if (tree.Left.Length > 0)
            {
                Sum(tree, 0, LeafCounts[t], InternalCounts[t]);
            }
        });
    }

    /// <summary>
    /// Routes <paramref name="rows"/> (model inputs, <see cref="Features"/>.Count per row) through every tree and records
    /// how many reach each node. Internal node n's count is the sum of its children's.
    /// </summary>
    public void CountCovers(float[] rows, int rowCount) => CountCoversFrom(0, rows, rowCount);

    private static long Sum(GbdtTree tree, int node, long[] leaves, long[] internals)
    {
        long left = tree.Left[node] < 0 ? leaves[~tree.Left[node]] : Sum(tree, tree.Left[node], leaves, internals);
        long right = tree.Right[node] < 0 ? leaves[~tree.Right[node]] : Sum(tree, tree.Right[node], leaves, internals);
        internals[node] = left + right;
        return left + right;
    }

    /// <summary>Raw scores (one per class, or one for binary) of model inputs <paramref name="inputs"/>, from the first <paramref name="iterations"/> iterations.</summary>
    public void Raw(ReadOnlySpan<float> inputs, Span<double> raw, int iterations = int.MaxValue)
    {
        raw.Clear();
        int trees = (int)Math.Min(Trees.Count, (long)iterations * TreesPerIteration);
        for (int t = 0; t < trees; t++)
        {
            raw[t % TreesPerIteration] += Trees[t].LeafValue[Trees[t].LeafOf(inputs)];
        }
    }

    /// <summary>
    /// Mean log-loss on <paramref name="labels"/> after each boosting round (softmax for multiclass, sigmoid for binary,
    /// where class 1 is the positive class): how training went, round by round.
    /// </summary>
    public double[] LossByIteration(float[] rows, int[] labels) => LossByIteration(rows, labels, null);

    /// <summary>
    /// Log-loss after each round, each row weighted by its class's entry in <paramref name="classWeights"/> (null: 1), so
    /// that with balanced class weights the validation loss follows the objective boosting minimises.
    /// </summary>
    public double[] LossByIteration(float[] rows, int[] labels, float[]? classWeights)
    {
        int width = Features.Count, k = TreesPerIteration, n = labels.Length;
        var raw = new double[n * k];
        var losses = new double[Iterations];
        var p = new double[Binary ? 2 : k];
        for (int it = 0; it < Iterations; it++)
        {
            for (int c = 0; c < k; c++)
            {
                var tree = Trees[(it * k) + c];
                for (int r = 0; r < n; r++)
                {
                    raw[(r * k) + c] += tree.LeafValue[tree.LeafOf(rows.AsSpan(r * width, width))];
                }
            }

            double sum = 0, weight = 0;
            for (int r = 0; r < n; r++)
            {
                Probabilities(raw.AsSpan(r * k, k), p);
                double w = classWeights is null ? 1 : classWeights[labels[r]];
                sum -= w * Math.Log(Math.Max(p[labels[r]], 1e-15));
                weight += w;
            }

            losses[it] = weight > 0 ? sum / weight : 0;
        }

        return losses;
    }

    /// <summary>Class probabilities (softmax, or [1-p, p] for binary) from raw scores.</summary>
    public void Probabilities(ReadOnlySpan<double> raw, Span<double> probabilities)
    {
        if (Binary)
        {
            double p = 1 / (1 + Math.Exp(-Sigmoid * raw[0]));
            probabilities[0] = 1 - p;
            probabilities[1] = p;
            return;
        }

        double max = double.NegativeInfinity;
        foreach (double r in raw)
        {
            max = Math.Max(max, r);
        }

        double sum = 0;
        for (int k = 0; k < raw.Length; k++)
        {
            probabilities[k] = Math.Exp(raw[k] - max);
            sum += probabilities[k];
        }

        for (int k = 0; k < raw.Length; k++)
        {
            probabilities[k] /= sum;
        }
    }

    /// <summary>Gain importance per model input: the sum of split gains of every split on it.</summary>
    public double[] GainImportance()
    {
        var gain = new double[Features.Count];
        foreach (var tree in Trees)
        {
            for (int n = 0; n < tree.Left.Length; n++)
            {
                gain[tree.SplitFeature[n]] += tree.SplitGain[n];
            }
        }

        return gain;
    }

    /// <summary>LightGBM's text model format ("version=v4"); LightGBM feature j is canonical feature <see cref="Features"/>[j].</summary>
    public string ToLightGbmText()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder(1 << 16);
        int numClass = Binary ? 1 : TreesPerIteration;
        sb.Append("tree\nversion=v4\n");
        sb.Append(c, $"num_class={numClass}\nnum_tree_per_iteration={TreesPerIteration}\nlabel_index=0\nmax_feature_idx={Features.Count - 1}\n");
        sb.Append(Binary ? $"objective=binary sigmoid:{Sigmoid.ToString("R", c)}\n" : $"objective=multiclass num_class:{numClass}\n");
        // LightGBM separates names by spaces, so spaces inside a name become underscores; the manifest keeps the real names.
        sb.Append("feature_names=").AppendJoin(' ', Features.Select(f => FeatureSchema.Features[f].Name.Replace(' ', '_'))).Append('\n');
        sb.Append("feature_infos=").AppendJoin(' ', Features.Select((_, j) => FeatureMin[j] == FeatureMax[j] ? "none" : $"[{R(FeatureMin[j])}:{R(FeatureMax[j])}]")).Append('\n');
        sb.Append('\n');
        for (int t = 0; t < Trees.Count; t++)
        {
            var tree = Trees[t];
            sb.Append(c, $"Tree={t}\nnum_leaves={tree.Leaves}\nnum_cat=0\n");
            Line(sb, "split_feature", tree.SplitFeature.Select(v => v.ToString(c)));
            Line(sb, "split_gain", tree.SplitGain.Select(R));
            Line(sb, "threshold", tree.Threshold.Select(R));
            // 2 = default-left with missing type None: LightGBM then turns NaN into 0 before comparing, which is what
            // "nan-zero-inf-max" does too.
            Line(sb, "decision_type", tree.Left.Select(_ => "2"));
            Line(sb, "left_child", tree.Left.Select(v => v.ToString(c)));
            Line(sb, "right_child", tree.Right.Select(v => v.ToString(c)));
            Line(sb, "leaf_value", tree.LeafValue.Select(R));
            Line(sb, "leaf_count", LeafCounts[t].Select(v => v.ToString(c)));
            Line(sb, "internal_value", InternalValues(t).Select(R));
            Line(sb, "internal_count", InternalCounts[t].Select(v => v.ToString(c)));
            sb.Append("shrinkage=1\n\n");
        }

        sb.Append("end of trees\n\nfeature_importances:\n");
        var splits = new long[Features.Count];
        foreach (var tree in Trees)
        {
            foreach (int f in tree.SplitFeature)
            {
                splits[f]++;
            }
        }

        foreach (int j in Enumerable.Range(0, Features.Count).Where(j => splits[j] > 0).OrderByDescending(j => splits[j]))
        {
            sb.Append(c, $"{FeatureSchema.Features[Features[j]].Name.Replace(' ', '_')}={splits[j]}\n");
        }

        sb.Append('\n');
        return sb.ToString();
    }

    /// <summary>Each internal node's expected output: the cover-weighted mean of the leaves below it.</summary>
    private double[] InternalValues(int t)
    {
        var tree = Trees[t];
        var values = new double[tree.Left.Length];
        if (values.Length > 0)
        {
            Fill(0);
        }

        return values;

        (double Sum, long Count) Fill(int node)
        {
            var (ls, lc) = tree.Left[node] < 0 ? Leaf(~tree.Left[node]) : Fill(tree.Left[node]);
            var (rs, rc) = tree.Right[node] < 0 ? Leaf(~tree.Right[node]) : Fill(tree.Right[node]);
            long count = lc + rc;
            values[node] = count > 0 ? (ls + rs) / count : 0;
            return (ls + rs, count);
        }

        (double, long) Leaf(int leaf) => (tree.LeafValue[leaf] * LeafCounts[t][leaf], LeafCounts[t][leaf]);
    }

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string R(float v) => ((double)v).ToString("R", CultureInfo.InvariantCulture);

    private static void Line(StringBuilder sb, string key, IEnumerable<string> values) => sb.Append(key).Append('=').AppendJoin(' ', values).Append('\n');
}
