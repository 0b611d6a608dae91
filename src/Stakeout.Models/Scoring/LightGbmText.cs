using System.Globalization;
using System.Text;

namespace Stakeout.Models.Scoring;

/// <summary>How a LightGBM model turns raw scores into probabilities.</summary>
internal enum LightGbmObjective
{
    /// <summary>One tree per iteration, p = sigmoid(scale × raw).</summary>
    Binary,

    /// <summary>K trees per iteration, softmax over the K raw scores.</summary>
    Multiclass,
}

/// <summary>One parsed tree, exactly as the text says (indices local to the tree).</summary>
internal sealed record LightGbmTree(
    int Index,
    int NumLeaves,
    int[] SplitFeature,
    double[] Threshold,
    byte[] DecisionType,
    int[] LeftChild,
    int[] RightChild,
    double[] LeafValue,
    long[] LeafCount,
    long[] InternalCount,
    int Depth);

/// <summary>A parsed LightGBM text model (numerical splits only).</summary>
internal sealed record LightGbmModel(
    string Version,
    int NumClass,
    int NumTreePerIteration,
    int MaxFeatureIdx,
    LightGbmObjective Objective,
    double SigmoidScale,
    IReadOnlyList<string> FeatureNames,
    IReadOnlyList<LightGbmTree> Trees);

/// <summary>
/// A strict reader of LightGBM's text model format (what <c>LGBM_BoosterSaveModelToString</c> writes, "version=v3" or
/// "v4"). It refuses what it cannot score exactly rather than guessing: categorical splits, linear trees, averaged output
/// (random forest mode), inconsistent counts, child indices that do not form a tree. Every error names the payload line
/// and the field. docs/model-format.md lists the fields it requires.
/// </summary>
internal static class LightGbmText
{
    /// <summary>decision_type bit 0: categorical split.</summary>
    public const byte CategoricalMask = 1;

    /// <summary>decision_type bit 1: missing values go left.</summary>
    public const byte DefaultLeftMask = 2;

    /// <summary>Missing type "None": NaN is compared as 0.</summary>
    public const int MissingNone = 0;

    /// <summary>Missing type "Zero": 0 (|x| ≤ 1e-35) and NaN take the default direction.</summary>
    public const int MissingZero = 1;

    /// <summary>Missing type "NaN": NaN takes the default direction.</summary>
    public const int MissingNaN = 2;

    // Keys LightGBM writes in a tree block. Anything else is refused: it could change predictions in a way we would ignore.
    private static readonly HashSet<string> TreeKeys = new(StringComparer.Ordinal)
    {
        "num_leaves", "num_cat", "split_feature", "split_gain", "threshold", "decision_type", "left_child", "right_child",
        "leaf_value", "leaf_weight", "leaf_count", "internal_value", "internal_weight", "internal_count", "is_linear",
        "shrinkage", "leaf_parent", "has_categorical", "cat_boundaries", "cat_threshold", "leaf_const", "num_features",
        "leaf_features", "leaf_coeff",
    };

    public static int MissingType(byte decisionType) => (decisionType >> 2) & 3;

    public static bool DefaultLeft(byte decisionType) => (decisionType & DefaultLeftMask) != 0;

    /// <summary>Parses UTF-8 LightGBM text. Throws <see cref="ArtifactException"/> naming the line and field at fault.</summary>
    public static LightGbmModel Parse(ReadOnlySpan<byte> utf8, string source)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(utf8);
        }
        catch (DecoderFallbackException)
        {
            throw new ArtifactException(source, ArtifactProblem.Malformed, "the LightGBM model is not valid UTF-8 text.");
        }

        return new Reader(text.Split('\n'), source).Read();
    }

    private sealed class Reader(string[] lines, string source)
    {
        private int _line; // 0-based index of the next line to read

        public LightGbmModel Read()
        {
            SkipBlank();
            if (_line >= lines.Length || Line(_line) != "tree")
            {
                throw Error(_line, ArtifactProblem.Malformed, "a LightGBM text model starts with the line 'tree'.");
            }

            _line++;
            var header = new Dictionary<string, (string Value, int Line)>(StringComparer.Ordinal);
            while (_line < lines.Length && !Line(_line).StartsWith("Tree=", StringComparison.Ordinal) && Line(_line) != "end of trees")
            {
                string l = Line(_line);
                if (l.Length > 0)
                {
                    if (l == "average_output")
                    {
                        throw Error(_line, ArtifactProblem.SchemaIncompatible, "'average_output' (random forest mode) is not supported; Stakeout sums tree outputs.");
                    }

                    int eq = l.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0)
                    {
                        throw Error(_line, ArtifactProblem.Malformed, $"expected 'key=value' in the header, found '{Shorten(l)}'.");
                    }

                    if (!header.TryAdd(l[..eq], (l[(eq + 1)..], _line)))
                    {
                        throw Error(_line, ArtifactProblem.Malformed, $"header field '{l[..eq]}' appears twice.");
                    }
                }

                _line++;
            }

            string version = Required(header, "version").Value;
            if (version is not ("v3" or "v4"))
            {
                throw Error(header["version"].Line, ArtifactProblem.SchemaIncompatible, $"version '{Shorten(version)}'; this reader knows LightGBM text formats v3 and v4.");
            }

            int numClass = HeaderInt(header, "num_class", 1, 1000);
            int perIteration = HeaderInt(header, "num_tree_per_iteration", 1, 1000);
            int maxFeatureIdx = HeaderInt(header, "max_feature_idx", 0, 100_000);
            var (objective, scale) = ParseObjective(header, numClass, perIteration);

            string[] featureNames = [];
            if (header.TryGetValue("feature_names", out var names))
            {
                featureNames = names.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (featureNames.Length != maxFeatureIdx + 1)
                {
                    throw Error(names.Line, ArtifactProblem.Malformed, $"field 'feature_names' has {featureNames.Length} names, but max_feature_idx={maxFeatureIdx} means {maxFeatureIdx + 1}.");
                }
            }

            var trees = new List<LightGbmTree>();
            var blockBytes = new List<long>();
            while (_line < lines.Length && Line(_line) != "end of trees")
            {
                if (Line(_line).Length == 0)
                {
                    _line++;
                    continue;
                }

                int first = _line;
                trees.Add(ReadTree(trees.Count, maxFeatureIdx));
                SkipBlank();
                blockBytes.Add(Enumerable.Range(first, _line - first).Sum(i => (long)Encoding.UTF8.GetByteCount(lines[i]) + 1));
            }

            if (_line >= lines.Length)
            {
                throw Error(lines.Length - 1, ArtifactProblem.Malformed, "the model has no 'end of trees' line (truncated?).");
            }

            if (trees.Count == 0)
            {
                throw Error(_line, ArtifactProblem.Malformed, "the model has no trees.");
            }

            if (header.TryGetValue("tree_sizes", out var sizes))
            {
                CheckTreeSizes(sizes.Value, sizes.Line, blockBytes);
            }

            if (trees.Count % perIteration != 0)
            {
                throw Error(_line, ArtifactProblem.Malformed, $"{trees.Count} trees is not a whole number of iterations of num_tree_per_iteration={perIteration}.");
            }

            return new LightGbmModel(version, numClass, perIteration, maxFeatureIdx, objective, scale, featureNames, trees);
        }

        /// <summary>
        /// LightGBM locates each tree by these byte counts ("Tree=N" line to the next tree), so a model whose sizes are
        /// wrong would be read differently by LightGBM than by us: refuse it.
        /// </summary>
        private void CheckTreeSizes(string value, int line, List<long> actual)
        {
            string[] parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != actual.Count)
            {
                throw Error(line, ArtifactProblem.Malformed, $"field 'tree_sizes' lists {parts.Length} trees, but the model holds {actual.Count}.");
            }

            for (int i = 0; i < parts.Length; i++)
            {
                if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out long size) || size != actual[i])
                {
                    throw Error(line, ArtifactProblem.Malformed, $"tree_sizes[{i}]='{Shorten(parts[i])}', but tree {i} takes {actual[i]} bytes (omit tree_sizes or write the real sizes).");
                }
            }
        }

        private (LightGbmObjective, double) ParseObjective(Dictionary<string, (string Value, int Line)> header, int numClass, int perIteration)
        {
            var (value, line) = Required(header, "objective");
            string[] parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                throw Error(line, ArtifactProblem.Malformed, "field 'objective' is empty.");
            }

            switch (parts[0])
            {
                case "binary":
                    if (numClass != 1 || perIteration != 1)
                    {
                        throw Error(line, ArtifactProblem.Malformed, $"objective 'binary' needs num_class=1 and num_tree_per_iteration=1; the header says {numClass} and {perIteration}.");
                    }

                    double scale = 1;
                    foreach (string p in parts.Skip(1))
                    {
                        if (p.StartsWith("sigmoid:", StringComparison.Ordinal))
                        {
                            if (!TryParseDouble(p["sigmoid:".Length..], out scale) || !(scale > 0) || double.IsInfinity(scale))
                            {
                                throw Error(line, ArtifactProblem.Malformed, $"field 'objective': '{Shorten(p)}' is not a positive number.");
                            }
                        }
                    }

                    return (LightGbmObjective.Binary, scale);

                case "multiclass":
                    if (numClass < 2 || perIteration != numClass)
                    {
                        throw Error(line, ArtifactProblem.Malformed, $"objective 'multiclass' needs num_class >= 2 trees per iteration; the header says num_class={numClass}, num_tree_per_iteration={perIteration}.");
                    }

                    foreach (string p in parts.Skip(1))
                    {
                        if (p.StartsWith("num_class:", StringComparison.Ordinal)
                            && (!int.TryParse(p["num_class:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int k) || k != numClass))
                        {
                            throw Error(line, ArtifactProblem.Malformed, $"field 'objective' says '{Shorten(p)}', but num_class={numClass}.");
                        }
                    }

                    return (LightGbmObjective.Multiclass, 1);

                default:
                    throw Error(line, ArtifactProblem.SchemaIncompatible, $"objective '{Shorten(parts[0])}'; Stakeout scores 'binary' and 'multiclass' models.");
            }
        }

        private LightGbmTree ReadTree(int expectedIndex, int maxFeatureIdx)
        {
            int start = _line;
            string head = Line(_line);
            if (!head.StartsWith("Tree=", StringComparison.Ordinal)
                || !int.TryParse(head.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            {
                throw Error(_line, ArtifactProblem.Malformed, $"expected 'Tree={expectedIndex}', found '{Shorten(head)}'.");
            }

            if (index != expectedIndex)
            {
                throw Error(_line, ArtifactProblem.Malformed, $"tree {index} where tree {expectedIndex} should come (trees are numbered from 0 in order).");
            }

            _line++;
            var fields = new Dictionary<string, (string Value, int Line)>(StringComparer.Ordinal);
            while (_line < lines.Length && Line(_line).Length > 0 && !Line(_line).StartsWith("Tree=", StringComparison.Ordinal) && Line(_line) != "end of trees")
            {
                string l = Line(_line);
                int eq = l.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw Error(_line, ArtifactProblem.Malformed, $"tree {index}: expected 'key=value', found '{Shorten(l)}'.");
                }

                string key = l[..eq];
                if (!TreeKeys.Contains(key))
                {
                    throw Error(_line, ArtifactProblem.Malformed, $"tree {index}: unknown field '{Shorten(key)}'.");
                }

                if (!fields.TryAdd(key, (l[(eq + 1)..], _line)))
                {
                    throw Error(_line, ArtifactProblem.Malformed, $"tree {index}: field '{key}' appears twice.");
                }

                _line++;
            }

            if (!fields.TryGetValue("num_leaves", out var numLeavesField))
            {
                throw Error(start, ArtifactProblem.Malformed, $"tree {index} has no 'num_leaves' field.");
            }

            if (!int.TryParse(numLeavesField.Value, NumberStyles.None, CultureInfo.InvariantCulture, out int numLeaves) || numLeaves < 1 || numLeaves > 1 << 20)
            {
                throw Error(numLeavesField.Line, ArtifactProblem.Malformed, $"tree {index}: 'num_leaves={Shorten(numLeavesField.Value)}' is not a count between 1 and {1 << 20}.");
            }

            if (fields.TryGetValue("num_cat", out var numCat) && numCat.Value != "0")
            {
                throw Error(numCat.Line, ArtifactProblem.SchemaIncompatible, $"tree {index} has categorical splits (num_cat={Shorten(numCat.Value)}); Stakeout's features are all numerical.");
            }

            if (fields.TryGetValue("is_linear", out var linear) && linear.Value != "0")
            {
                throw Error(linear.Line, ArtifactProblem.SchemaIncompatible, $"tree {index} is a linear tree (is_linear={Shorten(linear.Value)}); only constant leaves are supported.");
            }

            int inner = numLeaves - 1;
            double[] leafValue = Doubles(fields, "leaf_value", numLeaves, index, start);
            if (numLeaves == 1)
            {
                // A one-leaf tree (LightGBM writes these when no split gains): a constant; its cover is irrelevant.
                return new LightGbmTree(index, 1, [], [], [], [], [], leafValue, [1], [], 0);
            }

            int[] splitFeature = Ints(fields, "split_feature", inner, index, start);
            double[] threshold = Doubles(fields, "threshold", inner, index, start);
            int[] decisionRaw = Ints(fields, "decision_type", inner, index, start);
            int[] left = Ints(fields, "left_child", inner, index, start);
            int[] right = Ints(fields, "right_child", inner, index, start);
            long[] leafCount = Longs(fields, "leaf_count", numLeaves, index, start);
            long[] internalCount = Longs(fields, "internal_count", inner, index, start);

            var decision = new byte[inner];
            for (int i = 0; i < inner; i++)
            {
                int line = fields["decision_type"].Line;
                int d = decisionRaw[i];
                if (d is < 0 or > 15)
                {
                    throw Error(line, ArtifactProblem.Malformed, $"tree {index}: decision_type[{i}]={d} is not a LightGBM decision type (0..15).");
                }

                if ((d & CategoricalMask) != 0)
                {
                    throw Error(line, ArtifactProblem.SchemaIncompatible, $"tree {index}: node {i} is a categorical split (decision_type={d}); Stakeout's features are all numerical.");
                }

                if (((d >> 2) & 3) == 3)
                {
                    throw Error(line, ArtifactProblem.Malformed, $"tree {index}: decision_type[{i}]={d} has missing type 3, which LightGBM does not define.");
                }

                decision[i] = (byte)d;
                if ((uint)splitFeature[i] > (uint)maxFeatureIdx)
                {
                    throw Error(fields["split_feature"].Line, ArtifactProblem.Malformed, $"tree {index}: split_feature[{i}]={splitFeature[i]} is outside 0..max_feature_idx={maxFeatureIdx}.");
                }

                if (double.IsNaN(threshold[i]))
                {
                    throw Error(fields["threshold"].Line, ArtifactProblem.Malformed, $"tree {index}: threshold[{i}] is NaN.");
                }
            }

            int depth = CheckStructure(index, numLeaves, left, right, leafCount, internalCount, fields);
            return new LightGbmTree(index, numLeaves, splitFeature, threshold, decision, left, right, leafValue, leafCount, internalCount, depth);
        }

        /// <summary>
        /// Checks that the child indices form one tree rooted at node 0 (every node and leaf reached exactly once) and
        /// that each node's count is the sum of its children's, which TreeSHAP's expectations rely on. Returns the depth.
        /// </summary>
        private int CheckStructure(int tree, int numLeaves, int[] left, int[] right, long[] leafCount, long[] internalCount, Dictionary<string, (string Value, int Line)> fields)
        {
            int inner = numLeaves - 1;
            var nodeSeen = new bool[inner];
            var leafSeen = new bool[numLeaves];
            var stack = new Stack<(int Node, int Depth)>();
            stack.Push((0, 0));
            nodeSeen[0] = true;
            int maxDepth = 0;
            while (stack.Count > 0)
            {
                var (node, depth) = stack.Pop();
                long sum = 0;
                foreach (var (child, field) in new[] { (left[node], "left_child"), (right[node], "right_child") })
                {
                    int line = fields[field].Line;
                    if (child >= 0)
                    {
                        if (child >= inner)
                        {
                            throw Error(line, ArtifactProblem.Malformed, $"tree {tree}: {field}[{node}]={child} points past the last node ({inner - 1}).");
                        }

                        if (nodeSeen[child])
                        {
                            throw Error(line, ArtifactProblem.Malformed, $"tree {tree}: {field}[{node}]={child} reaches node {child} a second time (not a tree).");
                        }

                        nodeSeen[child] = true;
                        stack.Push((child, depth + 1));
                        sum += internalCount[child];
                    }
                    else
                    {
                        int leaf = ~child;
                        if (leaf >= numLeaves)
                        {
                            throw Error(line, ArtifactProblem.Malformed, $"tree {tree}: {field}[{node}]={child} names leaf {leaf}, but the tree has {numLeaves} leaves.");
                        }

                        if (leafSeen[leaf])
                        {
                            throw Error(line, ArtifactProblem.Malformed, $"tree {tree}: {field}[{node}]={child} reaches leaf {leaf} a second time (not a tree).");
                        }

                        leafSeen[leaf] = true;
                        sum += leafCount[leaf];
                        maxDepth = Math.Max(maxDepth, depth + 1);
                    }
                }

                if (sum != internalCount[node])
                {
                    throw Error(fields["internal_count"].Line, ArtifactProblem.Malformed, $"tree {tree}: internal_count[{node}]={internalCount[node]}, but its children hold {sum}.");
                }
            }

            int unreached = Array.IndexOf(nodeSeen, false);
            if (unreached >= 0)
            {
                throw Error(fields["left_child"].Line, ArtifactProblem.Malformed, $"tree {tree}: node {unreached} is not reachable from the root.");
            }

            int orphan = Array.IndexOf(leafSeen, false);
            if (orphan >= 0)
            {
                throw Error(fields["left_child"].Line, ArtifactProblem.Malformed, $"tree {tree}: leaf {orphan} is not reachable from the root.");
            }

            if (internalCount[0] <= 0)
            {
                throw Error(fields["internal_count"].Line, ArtifactProblem.Malformed, $"tree {tree}: internal_count[0]={internalCount[0]}; node covers must be filled (TreeSHAP needs them).");
            }

            return maxDepth;
        }

        private string[] Values(Dictionary<string, (string Value, int Line)> fields, string key, int count, int tree, int start)
        {
            if (!fields.TryGetValue(key, out var field))
            {
                throw Error(start, ArtifactProblem.Malformed, $"tree {tree} has no '{key}' field.");
            }

            string[] parts = field.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != count)
            {
                throw Error(field.Line, ArtifactProblem.Malformed, $"tree {tree}: field '{key}' has {parts.Length} values; num_leaves means {count}.");
            }

            return parts;
        }

        private double[] Doubles(Dictionary<string, (string Value, int Line)> fields, string key, int count, int tree, int start)
        {
            string[] parts = Values(fields, key, count, tree, start);
            var result = new double[count];
            for (int i = 0; i < count; i++)
            {
                if (!TryParseDouble(parts[i], out result[i]))
                {
                    throw Error(fields[key].Line, ArtifactProblem.Malformed, $"tree {tree}: {key}[{i}]='{Shorten(parts[i])}' is not a number.");
                }
            }

            if (key == "leaf_value" && result.Any(v => !double.IsFinite(v)))
            {
                throw Error(fields[key].Line, ArtifactProblem.Malformed, $"tree {tree}: field 'leaf_value' holds a non-finite value.");
            }

            return result;
        }

        private int[] Ints(Dictionary<string, (string Value, int Line)> fields, string key, int count, int tree, int start)
        {
            string[] parts = Values(fields, key, count, tree, start);
            var result = new int[count];
            for (int i = 0; i < count; i++)
            {
                if (!int.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out result[i]))
                {
                    throw Error(fields[key].Line, ArtifactProblem.Malformed, $"tree {tree}: {key}[{i}]='{Shorten(parts[i])}' is not an integer.");
                }
            }

            return result;
        }

        private long[] Longs(Dictionary<string, (string Value, int Line)> fields, string key, int count, int tree, int start)
        {
            string[] parts = Values(fields, key, count, tree, start);
            var result = new long[count];
            for (int i = 0; i < count; i++)
            {
                if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out result[i]))
                {
                    throw Error(fields[key].Line, ArtifactProblem.Malformed, $"tree {tree}: {key}[{i}]='{Shorten(parts[i])}' is not a non-negative integer.");
                }
            }

            return result;
        }

        private (string Value, int Line) Required(Dictionary<string, (string Value, int Line)> header, string key) =>
            header.TryGetValue(key, out var v) ? v : throw Error(0, ArtifactProblem.Malformed, $"the header has no '{key}' field.");

        private int HeaderInt(Dictionary<string, (string Value, int Line)> header, string key, int min, int max)
        {
            var (value, line) = Required(header, key);
            if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            {
                throw Error(line, ArtifactProblem.Malformed, $"field '{key}={Shorten(value)}' is not an integer between {min} and {max}.");
            }

            return n;
        }

        private void SkipBlank()
        {
            while (_line < lines.Length && Line(_line).Length == 0)
            {
                _line++;
            }
        }

        private string Line(int i) => lines[i].TrimEnd('\r');

        private ArtifactException Error(int line, ArtifactProblem problem, string detail) =>
            new(source, problem, $"LightGBM model line {line + 1}: {detail}");
    }

    /// <summary>Parses a number as LightGBM writes it (C formatting: "inf", "-inf" and "nan" included).</summary>
    public static bool TryParseDouble(string s, out double value)
    {
        switch (s)
        {
            case "inf" or "+inf" or "Infinity" or "+Infinity":
                value = double.PositiveInfinity;
                return true;
            case "-inf" or "-Infinity":
                value = double.NegativeInfinity;
                return true;
            case "nan" or "-nan" or "NaN":
                value = double.NaN;
                return true;
            default:
                return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..37] + "...";
}
