using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Stakeout.Core;

namespace Stakeout.Models.Scoring;

/// <summary>
/// One node of the blocked layout, 16 bytes. <see cref="Column"/> is the offset of the node's feature column in the
/// block scratch (column × <see cref="TreeEnsembleScorer.BlockRows"/>); <see cref="Left"/> and <see cref="Right"/> are
/// adjacent so the next node is <c>Unsafe.Add(ref Left, goRight)</c>, without a branch. A leaf is a node whose children
/// are itself and whose threshold is +∞ (every value goes "left", i.e. stays); its <see cref="Right"/> then holds the
/// index of its value in the leaf array.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BlockNode
{
    public float Threshold;
    public int Column;
    public int Left;
    public int Right;
}

/// <summary>
/// Batch scoring for models without missing types (every model the trainer writes): rows are scored in blocks of
/// <see cref="BlockRows"/>. The model's inputs of a block are gathered once into a small column-major float scratch with
/// the non-finite mapping applied once per value. Trees of at most 32 leaves take the bit-vector walk where the CPU
/// has AVX-512 or AVX2 (TreeEnsembleScorer.Vector.cs); every other tree is walked for all rows of the block in lock-step,
/// a fixed number of steps (the tree's depth; leaves loop on themselves), so the walk has no data-dependent branch,
/// the rows' walks overlap in the pipeline, and a tree's nodes are loaded from memory once per block instead of once
/// per row. Comparisons are in float against thresholds rounded down to the largest float not above LightGBM's double
/// threshold, which decides every float input exactly as LightGBM's double comparison does; leaf values are summed
/// per row in tree order as in the row-by-row walk, so the probabilities are bit-for-bit the same.
/// </summary>
internal sealed partial class TreeEnsembleScorer
{
    /// <summary>Rows per block: the scratch (≤ 78 × 32 floats) and a tree stay in L1 while the rows advance.</summary>
    internal const int BlockRows = 32;

    private BlockNode[] _blockNodes = [];
    private double[] _blockLeaves = [];
    private int[] _blockRoots = [];
    private int[] _blockSteps = [];

    // Canonical index of each scratch column: the features the model actually splits on, in first-use order.
    private int[] _columns = [];

    /// <summary>Builds the blocked layout from the compiled arrays (called once by the constructor, plain models only).</summary>
    private void CompileBlocked(VectorWalk widest)
    {
        var columnOf = new Dictionary<int, int>();
        var columns = new List<int>();
        int trees = _roots.Length;
        var nodes = new List<BlockNode>(_nodes.Length + _leafValues.Length);
        var leaves = new List<double>(_leafValues.Length);
        _blockRoots = new int[trees];
        _blockSteps = new int[trees];
        var toBlock = new Dictionary<int, int>();
        for (int t = 0; t < trees; t++)
        {
            _blockSteps[t] = _treeDepth[t];
            toBlock.Clear();
            int root = _roots[t];

            // Breadth-first from the root, so the nodes a block visits first sit together.
            var queue = new Queue<int>();
            queue.Enqueue(root);
            var order = new List<int>();
            while (queue.Count > 0)
            {
                int n = queue.Dequeue();
                toBlock[n] = nodes.Count + order.Count;
                order.Add(n);
                if (n >= 0)
                {
                    queue.Enqueue(_nodes[n].Left);
                    queue.Enqueue(_nodes[n].Right);
                }
            }

            foreach (int n in order)
            {
                int self = toBlock[n];
                if (n < 0)
                {
                    nodes.Add(new BlockNode { Threshold = float.PositiveInfinity, Column = 0, Left = self, Right = leaves.Count });
                    leaves.Add(_leafValues[~n]);
                    continue;
                }

                var c = _nodes[n];
                if (!columnOf.TryGetValue(c.Feature, out int column))
                {
                    column = columns.Count;
                    columnOf.Add(c.Feature, column);
                    columns.Add(c.Feature);
                }

                nodes.Add(new BlockNode { Threshold = FloatThreshold(c.Threshold), Column = column * BlockRows, Left = toBlock[c.Left], Right = toBlock[c.Right] });
            }

            _blockRoots[t] = toBlock[root];
        }

        CompileVector(columnOf, widest);

        _blockNodes = [.. nodes];
        _blockLeaves = [.. leaves];
        _columns = [.. columns];
    }

    /// <summary>
    /// The largest float whose double value is ≤ <paramref name="threshold"/>: for every float v (infinities included),
    /// <c>v &lt;= result</c> exactly when <c>(double)v &lt;= threshold</c>.
    /// </summary>
    internal static float FloatThreshold(double threshold)
    {
        float f = (float)threshold;
        return f > threshold ? MathF.BitDecrement(f) : f;
    }

    /// <summary>Scores whole rows block by block (plain models only); see the type's remarks.</summary>
    private void ScoreBlocked(ReadOnlySpan<float> features, Span<float> probabilities, int rows)
    {
        int k = Classes.Count;
        Span<float> scratch = stackalloc float[Math.Max(1, _columns.Length) * BlockRows];
        Span<double> raw = stackalloc double[k * BlockRows];
        Span<int> current = stackalloc int[BlockRows];
        Span<double> rowRaw = stackalloc double[k];
        for (int first = 0; first < rows; first += BlockRows)
        {
            int count = Math.Min(BlockRows, rows - first);
            Gather(features.Slice(first * FeatureSchema.Count, count * FeatureSchema.Count), count, scratch);
            raw.Clear();
            if (_allVector)
            {
                WalkAllVector(scratch, raw);
            }
            else
            {
                WalkBlock(scratch, raw, current, count);
            }

            for (int r = 0; r < count; r++)
            {
                for (int c = 0; c < rowRaw.Length; c++)
                {
                    rowRaw[c] = raw[(c * BlockRows) + r];
                }

                ToProbabilities(rowRaw, probabilities.Slice((first + r) * k, k));
            }
        }
    }

    /// <summary>
    /// Copies the model's columns of <paramref name="count"/> rows into the column-major scratch, mapping each value
    /// once: NaN → 0 (the "nan-zero-inf-max" policy, and LightGBM's rule for a node without missing type), and under
    /// "nan-zero-inf-max" ±∞ → ±float.MaxValue.
    /// </summary>
    private void Gather(ReadOnlySpan<float> block, int count, Span<float> scratch)
    {
        int[] columns = _columns;
        bool clampInfinity = _nanZeroInfMax;
        for (int r = 0; r < count; r++)
        {
            var row = block.Slice(r * FeatureSchema.Count, FeatureSchema.Count);
            for (int c = 0; c < columns.Length; c++)
            {
                float v = row[columns[c]];
                if (!float.IsFinite(v))
                {
                    v = float.IsNaN(v) ? 0f : !clampInfinity ? v : v > 0 ? float.MaxValue : -float.MaxValue;
                }

                scratch[(c * BlockRows) + r] = v;
            }
        }
    }

    /// <summary>Walks every tree for the block's rows in lock-step and adds the leaf values to raw[class × BlockRows + row].</summary>
    private void WalkBlock(Span<float> scratch, Span<double> raw, Span<int> current, int count)
    {
        ref BlockNode nodes = ref MemoryMarshal.GetArrayDataReference(_blockNodes);
        ref double leaves = ref MemoryMarshal.GetArrayDataReference(_blockLeaves);
        ref float x = ref MemoryMarshal.GetReference(scratch);
        ref int cur = ref MemoryMarshal.GetReference(current);
        ref double sums = ref MemoryMarshal.GetReference(raw);
        int[] roots = _blockRoots;
        int[] steps = _blockSteps;
        int[] treeClass = _treeClass;
        bool[] vectorTree = _vectorTree;
        for (int t = 0; t < roots.Length; t++)
        {
            if (vectorTree[t])
            {
                WalkVectorTree(t, scratch, raw);
                continue;
            }

            int root = roots[t];
            for (int r = 0; r < count; r++)
            {
                Unsafe.Add(ref cur, r) = root;
            }

            // Unchecked reads are safe: node indices and columns were built in range by CompileBlocked, count ≤
            // BlockRows, and the scratch holds every column for BlockRows rows.
            for (int s = steps[t]; s > 0; s--)
            {
                for (int r = 0; r < count; r++)
                {
                    ref int node = ref Unsafe.Add(ref cur, r);
                    ref BlockNode n = ref Unsafe.Add(ref nodes, node);
                    float v = Unsafe.Add(ref x, n.Column + r);
                    node = Unsafe.Add(ref n.Left, Unsafe.BitCast<bool, byte>(v > n.Threshold));
                }
            }

            ref double classSums = ref Unsafe.Add(ref sums, treeClass[t] * BlockRows);
            for (int r = 0; r < count; r++)
            {
                Unsafe.Add(ref classSums, r) += Unsafe.Add(ref leaves, Unsafe.Add(ref nodes, Unsafe.Add(ref cur, r)).Right);
            }
        }
    }
}
