using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Stakeout.Core;

namespace Stakeout.Models.Scoring;

/// <summary>One split, laid out so a node is one 24-byte load.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct CompiledNode(double Threshold, int Feature, int Left, int Right, int Flags)
{
    /// <summary>Flags bits 0-1: LightGBM missing type.</summary>
    public const int MissingTypeMask = 3;

    /// <summary>Flags bit 2: missing values take the left branch.</summary>
    public const int DefaultLeftFlag = 4;
}

/// <summary>
/// A LightGBM model compiled into flat arrays: every tree's splits in one <see cref="CompiledNode"/> array (features
/// already mapped to canonical indices), every leaf value in one double array, child links global (≥ 0 a node, &lt; 0 the
/// complement of a leaf). Built once; scoring only reads, so one instance serves any number of threads.
/// </summary>
internal sealed partial class TreeEnsembleScorer : IFlowScorer
{
    private const int MaxClasses = 256;

    // LightGBM's kZeroThreshold is the float 1e-35f, widened to double when compared.
    private const double ZeroThreshold = 1e-35f;

    private readonly CompiledNode[] _nodes;
    private readonly double[] _leafValues;
    private readonly int[] _roots;
    private readonly int[] _treeClass;
    private readonly int _perIteration;
    private readonly bool _binary;
    private readonly double _sigmoid;
    private readonly bool _nanZeroInfMax;

    // True when no node has a missing type: NaN is then simply 0 (mapped once per row) and a split is one comparison.
    private readonly bool _plain;

    private TreeEnsembleScorer(ModelManifest manifest, LightGbmModel model, string source, VectorWalk widest)
    {
        Manifest = manifest;
        Classes = manifest.Classes;
        BenignClassIndex = IndexOf(manifest.Classes, manifest.BenignClass);
        _perIteration = model.NumTreePerIteration;
        _binary = model.Objective == LightGbmObjective.Binary;
        _sigmoid = model.SigmoidScale;
        _nanZeroInfMax = manifest.NonFinite == NonFiniteMapping.NanZeroInfMax;

        if (model.MaxFeatureIdx + 1 != manifest.Features.Count)
        {
            throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, $"the LightGBM model has max_feature_idx={model.MaxFeatureIdx} ({model.MaxFeatureIdx + 1} inputs), but the manifest lists {manifest.Features.Count} features.");
        }

        int expectedClasses = _binary ? 2 : model.NumClass;
        if (manifest.Classes.Count != expectedClasses)
        {
            throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, $"the LightGBM model has {(_binary ? "a binary objective (2 classes)" : $"num_class={model.NumClass}")}, but the manifest lists {manifest.Classes.Count} classes.");
        }

        if (manifest.Classes.Count > MaxClasses)
        {
            throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, $"{manifest.Classes.Count} classes; this scorer handles at most {MaxClasses}.");
        }

        int nodeCount = model.Trees.Sum(t => t.NumLeaves - 1);
        int leafCount = model.Trees.Sum(t => t.NumLeaves);
        _nodes = new CompiledNode[nodeCount];
        _leafValues = new double[leafCount];
        _nodeCover = new double[nodeCount];
        _leafCover = new double[leafCount];
        _roots = new int[model.Trees.Count];
        _treeClass = new int[model.Trees.Count];
        _treeDepth = new int[model.Trees.Count];
        _treeExpected = new double[model.Trees.Count];

        int nodeBase = 0;
        int leafBase = 0;
        for (int t = 0; t < model.Trees.Count; t++)
        {
            var tree = model.Trees[t];
            _treeClass[t] = t % _perIteration;
            _treeDepth[t] = tree.Depth;
            _roots[t] = tree.NumLeaves == 1 ? ~leafBase : nodeBase;
            for (int i = 0; i < tree.NumLeaves - 1; i++)
            {
                byte d = tree.DecisionType[i];
                int flags = LightGbmText.MissingType(d) | (LightGbmText.DefaultLeft(d) ? CompiledNode.DefaultLeftFlag : 0);
                _nodes[nodeBase + i] = new CompiledNode(
                    tree.Threshold[i],
                    manifest.Features[tree.SplitFeature[i]].Index,
                    Global(tree.LeftChild[i], nodeBase, leafBase),
                    Global(tree.RightChild[i], nodeBase, leafBase),
                    flags);
                _nodeCover[nodeBase + i] = tree.InternalCount[i];
            }

            double expected = 0;
            double rootCover = tree.NumLeaves == 1 ? 1 : tree.InternalCount[0];
            for (int l = 0; l < tree.NumLeaves; l++)
            {
                _leafValues[leafBase + l] = tree.LeafValue[l];
                _leafCover[leafBase + l] = tree.LeafCount[l];
                expected += tree.LeafValue[l] * (tree.NumLeaves == 1 ? 1 : tree.LeafCount[l] / rootCover);
            }

            _treeExpected[t] = expected;
            nodeBase += tree.NumLeaves - 1;
            leafBase += tree.NumLeaves;
        }

        _plain = _nodes.All(n => (n.Flags & CompiledNode.MissingTypeMask) == LightGbmText.MissingNone);
        int maxDepth = _treeDepth.Length == 0 ? 0 : _treeDepth.Max();
        _shapPathCapacity = (maxDepth + 2) * (maxDepth + 3) / 2;
        if (_plain)
        {
            CompileBlocked(widest);
        }
    }

    /// <inheritdoc />
    public ModelManifest Manifest { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> Classes { get; }

    /// <inheritdoc />
    public int BenignClassIndex { get; }

    /// <summary>Number of trees.</summary>
    public int TreeCount => _roots.Length;

    /// <summary>Parses and compiles a "lightgbm" payload against its manifest.</summary>
    public static TreeEnsembleScorer Compile(ModelManifest manifest, ReadOnlySpan<byte> payload, string source) =>
        new(manifest, LightGbmText.Parse(payload, source), source, VectorWalk.Avx512);

    /// <summary>
    /// As <see cref="Compile(ModelManifest, ReadOnlySpan{byte}, string)"/>, but using no wider bit-vector walk than
    /// <paramref name="widest"/> (the CPU may allow less), so tests and benchmarks can run the narrower paths on any machine.
    /// </summary>
    internal static TreeEnsembleScorer Compile(ModelManifest manifest, ReadOnlySpan<byte> payload, string source, VectorWalk widest) =>
        new(manifest, LightGbmText.Parse(payload, source), source, widest);

    /// <inheritdoc />
    public void Score(ReadOnlySpan<float> features, Span<float> probabilities)
    {
        int rows = ScorerShapes.Rows(features, probabilities, Classes.Count);
        if (_plain)
        {
            ScoreBlocked(features, probabilities, rows);
        }
        else
        {
            ScoreRowByRow(features, probabilities, rows);
        }
    }

    /// <summary>
    /// The reference walk: one row at a time, every tree in double with LightGBM's full decision rule (missing types
    /// included). Used for models with missing types, and by the tests as the yardstick of the blocked path.
    /// </summary>
    internal void ScoreRowByRow(ReadOnlySpan<float> features, Span<float> probabilities, int rows)
    {
        int k = Classes.Count;
        Span<double> x = stackalloc double[FeatureSchema.Count];
        Span<double> raw = stackalloc double[k];
        for (int r = 0; r < rows; r++)
        {
            NonFiniteMapping.Prepare(features.Slice(r * FeatureSchema.Count, FeatureSchema.Count), x, _nanZeroInfMax);
            Margins(x, raw);
            ToProbabilities(raw, probabilities.Slice(r * k, k));
        }
    }

    /// <summary>
    /// The raw scores (margins) of one canonical row, one per class (LightGBM's raw prediction; for a binary model,
    /// class 1 gets the margin and class 0 its negation).
    /// </summary>
    public void RawScore(ReadOnlySpan<float> row, Span<double> raw)
    {
        ScorerShapes.CheckRow(row, raw.Length, Classes.Count);
        Span<double> x = stackalloc double[FeatureSchema.Count];
        NonFiniteMapping.Prepare(row, x, _nanZeroInfMax);
        Margins(x, raw);
        if (_binary)
        {
            raw[1] = raw[0];
            raw[0] = -raw[1];
        }
    }

    /// <summary>Sums leaf values per class; for a binary model only raw[0] is written (the positive margin).</summary>
    private void Margins(ReadOnlySpan<double> x, Span<double> raw)
    {
        raw.Clear();
        ref CompiledNode nodes = ref MemoryMarshal.GetArrayDataReference(_nodes);
        ref double leaves = ref MemoryMarshal.GetArrayDataReference(_leafValues);
        int[] roots = _roots;
        int perIteration = _perIteration;
        for (int t = 0; t < roots.Length; t++)
        {
            int node = roots[t];
            while (node >= 0)
            {
                // Safe without bounds checks: the compiler (constructor) only emits indices the parser proved in range.
                node = Next(in Unsafe.Add(ref nodes, node), x);
            }

            raw[t % perIteration] += Unsafe.Add(ref leaves, ~node);
        }
    }

    /// <summary>LightGBM's numerical decision, missing-value rules included.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Next(in CompiledNode n, ReadOnlySpan<double> x)
    {
        double v = x[n.Feature];
        int missing = n.Flags & CompiledNode.MissingTypeMask;
        if (missing == LightGbmText.MissingNone)
        {
            if (double.IsNaN(v))
            {
                v = 0;
            }
        }
        else if (missing == LightGbmText.MissingZero)
        {
            if (double.IsNaN(v) || (v >= -ZeroThreshold && v <= ZeroThreshold))
            {
                return (n.Flags & CompiledNode.DefaultLeftFlag) != 0 ? n.Left : n.Right;
            }
        }
        else if (double.IsNaN(v))
        {
            return (n.Flags & CompiledNode.DefaultLeftFlag) != 0 ? n.Left : n.Right;
        }

        return v <= n.Threshold ? n.Left : n.Right;
    }

    private void ToProbabilities(ReadOnlySpan<double> raw, Span<float> p)
    {
        if (_binary)
        {
            double positive = 1.0 / (1.0 + Math.Exp(-_sigmoid * raw[0]));
            p[0] = (float)(1.0 - positive);
            p[1] = (float)positive;
            return;
        }

        double max = double.NegativeInfinity;
        foreach (double r in raw)
        {
            max = Math.Max(max, r);
        }

        // Each exponential once (they were a tenth of a row's time computed twice); same values, same sum order.
        Span<double> e = stackalloc double[raw.Length];
        double sum = 0;
        for (int i = 0; i < raw.Length; i++)
        {
            e[i] = Math.Exp(raw[i] - max);
            sum += e[i];
        }

        for (int i = 0; i < raw.Length; i++)
        {
            p[i] = (float)(e[i] / sum);
        }
    }

    private static int Global(int child, int nodeBase, int leafBase) => child >= 0 ? nodeBase + child : ~(leafBase + ~child);

    private static int IndexOf(IReadOnlyList<string> classes, string name)
    {
        for (int i = 0; i < classes.Count; i++)
        {
            if (string.Equals(classes[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>Argument checks shared by the scorers: they throw before any work, naming the buffer and its required size.</summary>
internal static class ScorerShapes
{
    public static int Rows(ReadOnlySpan<float> features, Span<float> probabilities, int classes)
    {
        if (features.Length % FeatureSchema.Count != 0)
        {
            throw new ArgumentException($"features holds {features.Length} floats, not a whole number of {FeatureSchema.Count}-feature rows.", nameof(features));
        }

        int rows = features.Length / FeatureSchema.Count;
        if (probabilities.Length < rows * classes)
        {
            throw new ArgumentException($"probabilities holds {probabilities.Length} floats; {rows} rows × {classes} classes need {rows * classes}.", nameof(probabilities));
        }

        return rows;
    }

    public static void CheckRow(ReadOnlySpan<float> row, int outputLength, int required)
    {
        if (row.Length != FeatureSchema.Count)
        {
            throw new ArgumentException($"row holds {row.Length} floats; a canonical row has {FeatureSchema.Count}.", nameof(row));
        }

        if (outputLength < required)
        {
            throw new ArgumentException($"the output buffer holds {outputLength} values; {required} are needed.", nameof(outputLength));
        }
    }

    public static void CheckExplain(ReadOnlySpan<float> row, int classIndex, int classes, Span<double> contributions)
    {
        CheckRow(row, contributions.Length, FeatureSchema.Count + 1);
        if ((uint)classIndex >= (uint)classes)
        {
            throw new ArgumentOutOfRangeException(nameof(classIndex), classIndex, $"classIndex must be between 0 and {classes - 1}.");
        }
    }
}
