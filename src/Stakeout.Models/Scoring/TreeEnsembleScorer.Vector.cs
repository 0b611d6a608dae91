using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Stakeout.Models.Scoring;

/// <summary>
/// The AVX-512 walk of one tree for a whole block (two groups of 16 rows, one row per lane). A tree of at most
/// <see cref="VectorNodes"/> splits keeps its thresholds, columns and children in 2 × 4 registers, so finding each lane's
/// node is a register permute (vpermt2d) rather than a load; only the rows' values are gathered from the scratch. Children
/// are local split indices, or <see cref="VectorNodes"/> + leaf for a leaf; a lane that reached its leaf stops moving.
/// The comparison is the scalar path's float one and leaf values are added per row in tree order, so results do not
/// change. Trees with more splits, and machines without AVX-512, use the scalar lock-step walk.
/// </summary>
internal sealed partial class TreeEnsembleScorer
{
    /// <summary>Splits a tree may have to be walked with register tables (two 16-lane registers per table).</summary>
    private const int VectorNodes = 32;

    // Per vector tree, 4 × 32 ints: threshold bits, scratch column offset, left child, right child.
    private int[] _vectorTables = [];
    private int[] _vectorTableOf = [];
    private int[] _vectorLeafBase = [];
    private bool[] _vectorTree = [];

    private void CompileVector(Dictionary<int, int> columnOf)
    {
        int trees = _roots.Length;
        _vectorTree = new bool[trees];
        _vectorTableOf = new int[trees];
        _vectorLeafBase = new int[trees];
        if (!Avx512F.IsSupported || !Avx2.IsSupported || BlockRows != 2 * Vector512<int>.Count)
        {
            return;
        }

        var tables = new List<int>();
        for (int t = 0; t < trees; t++)
        {
            int root = _roots[t];
            if (root < 0)
            {
                continue;
            }

            // The tree's splits are _nodes[root .. root + splits) and its leaves one contiguous range: find both.
            int splits = 0;
            int leafBase = int.MaxValue;
            var stack = new Stack<int>();
            stack.Push(root);
            while (stack.Count > 0)
            {
                int n = stack.Pop();
                if (n < 0)
                {
                    leafBase = Math.Min(leafBase, ~n);
                    continue;
                }

                splits++;
                stack.Push(_nodes[n].Left);
                stack.Push(_nodes[n].Right);
            }

            if (splits > VectorNodes)
            {
                continue;
            }

            _vectorTree[t] = true;
            _vectorTableOf[t] = tables.Count;
            _vectorLeafBase[t] = leafBase;
            var table = new int[4 * VectorNodes];
            for (int i = 0; i < splits; i++)
            {
                var c = _nodes[root + i];
                table[i] = BitConverter.SingleToInt32Bits(FloatThreshold(c.Threshold));
                table[VectorNodes + i] = columnOf[c.Feature] * BlockRows;
                table[(2 * VectorNodes) + i] = Local(c.Left, root, leafBase);
                table[(3 * VectorNodes) + i] = Local(c.Right, root, leafBase);
            }

            // Unused entries stay 0: column 0 is a valid gather address for lanes that already sit on a leaf.
            tables.AddRange(table);
        }

        _vectorTables = [.. tables];
    }

    private static int Local(int child, int root, int leafBase) => child >= 0 ? child - root : VectorNodes + (~child - leafBase);

    private unsafe void WalkVectorTree(int t, Span<float> scratch, Span<double> raw)
    {
        ref int table = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_vectorTables), _vectorTableOf[t]);
        var thrLo = Vector512.LoadUnsafe(ref table).AsSingle();
        var thrHi = Vector512.LoadUnsafe(ref table, 16).AsSingle();
        var colLo = Vector512.LoadUnsafe(ref table, VectorNodes);
        var colHi = Vector512.LoadUnsafe(ref table, VectorNodes + 16);
        var leftLo = Vector512.LoadUnsafe(ref table, 2 * VectorNodes);
        var leftHi = Vector512.LoadUnsafe(ref table, (2 * VectorNodes) + 16);
        var rightLo = Vector512.LoadUnsafe(ref table, 3 * VectorNodes);
        var rightHi = Vector512.LoadUnsafe(ref table, (3 * VectorNodes) + 16);
        var leafStart = Vector512.Create(VectorNodes);
        var rowsA = Vector512<int>.Indices;
        var rowsB = rowsA + Vector512.Create(16);
        var a = Vector512<int>.Zero;
        var b = Vector512<int>.Zero;

        fixed (float* x = scratch)
        {
            // The two groups are independent chains, so their permutes and gathers overlap.
            for (int s = _blockSteps[t]; s > 0; s--)
            {
                a = Step(a, rowsA, x, thrLo, thrHi, colLo, colHi, leftLo, leftHi, rightLo, rightHi, leafStart);
                b = Step(b, rowsB, x, thrLo, thrHi, colLo, colHi, leftLo, leftHi, rightLo, rightHi, leafStart);
            }
        }

        // Every lane is now on a leaf (the walk ran the tree's depth): add its value to the row's class sum.
        var leafBase = Vector512.Create(_vectorLeafBase[t]) - leafStart;
        a += leafBase;
        b += leafBase;
        ref double sums = ref Unsafe.Add(ref MemoryMarshal.GetReference(raw), _treeClass[t] * BlockRows);
        fixed (double* leaves = _leafValues)
        {
            Add(ref sums, 0, leaves, a.GetLower().GetLower());
            Add(ref sums, 4, leaves, a.GetLower().GetUpper());
            Add(ref sums, 8, leaves, a.GetUpper().GetLower());
            Add(ref sums, 12, leaves, a.GetUpper().GetUpper());
            Add(ref sums, 16, leaves, b.GetLower().GetLower());
            Add(ref sums, 20, leaves, b.GetLower().GetUpper());
            Add(ref sums, 24, leaves, b.GetUpper().GetLower());
            Add(ref sums, 28, leaves, b.GetUpper().GetUpper());
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<int> Step(Vector512<int> node, Vector512<int> rows, float* x,
        Vector512<float> thrLo, Vector512<float> thrHi, Vector512<int> colLo, Vector512<int> colHi,
        Vector512<int> leftLo, Vector512<int> leftHi, Vector512<int> rightLo, Vector512<int> rightHi, Vector512<int> leafStart)
    {
        var moving = Vector512.LessThan(node, leafStart);
        var threshold = Avx512F.PermuteVar16x32x2(thrLo, node, thrHi);
        var offset = Avx512F.PermuteVar16x32x2(colLo, node, colHi) + rows;
        var value = Vector512.Create(Avx2.GatherVector256(x, offset.GetLower(), 4), Avx2.GatherVector256(x, offset.GetUpper(), 4));
        var right = Vector512.GreaterThan(value, threshold).AsInt32();
        var child = Vector512.ConditionalSelect(right, Avx512F.PermuteVar16x32x2(rightLo, node, rightHi), Avx512F.PermuteVar16x32x2(leftLo, node, leftHi));
        return Vector512.ConditionalSelect(moving, child, node);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Add(ref double sums, int row, double* leaves, Vector128<int> leaf)
    {
        ref double at = ref Unsafe.Add(ref sums, row);
        Vector256.StoreUnsafe(Vector256.LoadUnsafe(ref at) + Avx2.GatherVector256(leaves, leaf, 8), ref at);
    }
}
