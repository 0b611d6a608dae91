using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Stakeout.Models.Scoring;

/// <summary>The widest bit-vector walk a scorer may use (the CPU decides what it can have).</summary>
internal enum VectorWalk
{
    /// <summary>No bit-vector walk: every tree takes the scalar lock-step walk.</summary>
    None,

    /// <summary>AVX2: four 8-lane registers per 32-row block.</summary>
    Avx2,

    /// <summary>AVX-512: two 16-lane registers per 32-row block, comparisons into mask registers.</summary>
    Avx512,
}

/// <summary>One split of a bit-vector tree: 12 bytes, read once per 32 rows.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct MaskNode(float Threshold, int Column, uint Mask);

/// <summary>
/// The bit-vector walk (QuickScorer's idea, vectorised over rows) for trees of at most <see cref="VectorLeaves"/> leaves.
/// Leaves are numbered left to right, leaf i being bit i of a 32-bit word. A row that goes right at a split can never
/// reach a leaf of that split's left subtree, so each split carries a mask with those leaves' bits cleared; the row's
/// exit leaf is the leftmost leaf no split it goes right at has cleared, i.e. the lowest bit left after AND-ing the masks
/// of all such splits. Every split is evaluated for the block's 32 rows at once: the rows' values of the split's feature
/// are contiguous in the column-major scratch (one load per register), the comparison is the scalar path's float one,
/// and the mask is AND-ed into the lanes that go right. No gathers along the path, no dependence on it, no branch.
/// The leaf's value is then picked from the tree's leaf table (AVX-512: register permutes; AVX2: a gather) and added per
/// row in tree order, so results do not change. Blocks of 64 rows were measured slower than 32 (scratch and sums no
/// longer sit comfortably in L1 beside the streamed model). Trees with more leaves, and machines with
/// neither AVX-512 nor AVX2, use the scalar lock-step walk.
/// </summary>
internal sealed partial class TreeEnsembleScorer
{
    /// <summary>Leaves a tree may have for the bit-vector walk (one 32-bit word per row).</summary>
    private const int VectorLeaves = 32;

    private VectorWalk _vectorWalk;

    // Per vector tree: its splits in _maskNodes[_maskStart[t] .. _maskStart[t + 1]) and its leaf values left to right
    // from _maskLeaves[_maskLeafBase[t]].
    private MaskNode[] _maskNodes = [];
    private int[] _maskStart = [];
    private double[] _maskLeaves = [];
    private int[] _maskLeafBase = [];
    private bool[] _vectorTree = [];

    // True when every tree takes the bit-vector walk (the default model): the block then runs one tight loop.
    private bool _allVector;

    /// <summary>The walk this scorer uses for trees of at most 32 leaves (tests and benchmarks report it).</summary>
    internal VectorWalk Walk => _vectorWalk;

    private static VectorWalk Supported(VectorWalk widest) =>
        widest >= VectorWalk.Avx512 && Avx512F.IsSupported && Avx2.IsSupported ? VectorWalk.Avx512
        : widest >= VectorWalk.Avx2 && Avx2.IsSupported ? VectorWalk.Avx2
        : VectorWalk.None;

    private void CompileVector(Dictionary<int, int> columnOf, VectorWalk widest)
    {
        int trees = _roots.Length;
        _vectorTree = new bool[trees];
        _maskStart = new int[trees + 1];
        _maskLeafBase = new int[trees];
        _vectorWalk = Supported(widest);
        if (_vectorWalk == VectorWalk.None)
        {
            return;
        }

        var nodes = new List<MaskNode>();
        var leaves = new List<double>();
        for (int t = 0; t < trees; t++)
        {
            _maskStart[t] = nodes.Count;
            int root = _roots[t];
            if (FitsVectorWalk(root))
            {
                _vectorTree[t] = true;
                _maskLeafBase[t] = leaves.Count;
                AddMasked(root, leaves.Count, nodes, leaves, columnOf);
            }
        }

        _maskStart[trees] = nodes.Count;
        _maskNodes = [.. nodes];

        // Pinned for the scorer's life, so the walks take its address once instead of pinning it per tree.
        // VectorLeaves of padding: the AVX-512 walk loads a tree's leaf table as four whole registers.
        _maskLeaves = GC.AllocateArray<double>(leaves.Count + VectorLeaves, pinned: true);
        leaves.CopyTo(_maskLeaves);
        _allVector = trees > 0 && Array.TrueForAll(_vectorTree, v => v);
    }

    /// <summary>
    /// Whether the tree has at most <see cref="VectorLeaves"/> leaves; counts without recursion and stops early, since
    /// a large model's trees may be thousands of nodes deep.
    /// </summary>
    private bool FitsVectorWalk(int root)
    {
        var pending = new Stack<int>();
        pending.Push(root);
        int leaves = 0;
        while (pending.Count > 0)
        {
            int n = pending.Pop();
            if (n < 0)
            {
                if (++leaves > VectorLeaves)
                {
                    return false;
                }

                continue;
            }

            pending.Push(_nodes[n].Left);
            pending.Push(_nodes[n].Right);
        }

        return true;
    }

    /// <summary>
    /// Appends the subtree's leaves left to right and its splits with their masks; returns how many leaves it has
    /// (recursion depth ≤ 31: only trees that fit the walk come here).
    /// <paramref name="leafBase"/> is where the tree's leaves start in <paramref name="leaves"/>.
    /// </summary>
    private int AddMasked(int node, int leafBase, List<MaskNode> nodes, List<double> leaves, Dictionary<int, int> columnOf)
    {
        if (node < 0)
        {
            leaves.Add(_leafValues[~node]);
            return 1;
        }

        var c = _nodes[node];
        int firstLeft = leaves.Count - leafBase;
        int index = nodes.Count;
        nodes.Add(default);
        int leftLeaves = AddMasked(c.Left, leafBase, nodes, leaves, columnOf);
        int rightLeaves = AddMasked(c.Right, leafBase, nodes, leaves, columnOf);
        uint left = (uint)(((1UL << leftLeaves) - 1) << firstLeft);
        nodes[index] = new MaskNode(FloatThreshold(c.Threshold), columnOf[c.Feature] * BlockRows, ~left);
        return leftLeaves + rightLeaves;
    }

    private unsafe double* MaskLeaves => (double*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_maskLeaves));

    /// <summary>Walks every tree with the bit-vector walk (all trees qualify) and adds the leaf values to raw.</summary>
    private unsafe void WalkAllVector(Span<float> scratch, Span<double> raw)
    {
        ref MaskNode nodes = ref MemoryMarshal.GetArrayDataReference(_maskNodes);
        ref int start = ref MemoryMarshal.GetArrayDataReference(_maskStart);
        ref int leafBase = ref MemoryMarshal.GetArrayDataReference(_maskLeafBase);
        ref int treeClass = ref MemoryMarshal.GetArrayDataReference(_treeClass);
        ref float x = ref MemoryMarshal.GetReference(scratch);
        ref double sums = ref MemoryMarshal.GetReference(raw);
        double* leaves = MaskLeaves;
        int trees = _roots.Length;
        bool wide = _vectorWalk == VectorWalk.Avx512;

        // Unchecked reads are safe: the arrays have one entry per tree (start one more), built by CompileVector.
        for (int t = 0; t < trees; t++)
        {
            ref MaskNode first = ref Unsafe.Add(ref nodes, Unsafe.Add(ref start, t));
            ref MaskNode end = ref Unsafe.Add(ref nodes, Unsafe.Add(ref start, t + 1));
            double* treeLeaves = leaves + Unsafe.Add(ref leafBase, t);
            ref double classSums = ref Unsafe.Add(ref sums, Unsafe.Add(ref treeClass, t) * BlockRows);
            if (wide)
            {
                Tree512(ref first, ref end, ref x, treeLeaves, ref classSums);
            }
            else
            {
                Tree256(ref first, ref end, ref x, treeLeaves, ref classSums);
            }
        }
    }

    /// <summary>One tree's bit-vector walk, for models that mix these trees with larger ones.</summary>
    private unsafe void WalkVectorTree(int t, Span<float> scratch, Span<double> raw)
    {
        ref MaskNode nodes = ref MemoryMarshal.GetArrayDataReference(_maskNodes);
        ref MaskNode first = ref Unsafe.Add(ref nodes, _maskStart[t]);
        ref MaskNode end = ref Unsafe.Add(ref nodes, _maskStart[t + 1]);
        ref float x = ref MemoryMarshal.GetReference(scratch);
        ref double classSums = ref Unsafe.Add(ref MemoryMarshal.GetReference(raw), _treeClass[t] * BlockRows);
        if (_vectorWalk == VectorWalk.Avx512)
        {
            Tree512(ref first, ref end, ref x, MaskLeaves + _maskLeafBase[t], ref classSums);
        }
        else
        {
            Tree256(ref first, ref end, ref x, MaskLeaves + _maskLeafBase[t], ref classSums);
        }
    }

    // Unchecked reads in both walks are safe: the split range and columns were built in range by CompileVector, and the
    // scratch holds every column for BlockRows rows (lanes past the block's last row read stale values, still reach some
    // leaf of the tree, and are never read back). sums is the tree's class row of raw (BlockRows doubles).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Tree512(ref MaskNode n, ref MaskNode end, ref float x, double* leaves, ref double sums)
    {
        var a = Vector512<uint>.AllBitsSet;
        var b = Vector512<uint>.AllBitsSet;
        while (Unsafe.IsAddressLessThan(ref n, ref end))
        {
            var threshold = Vector512.Create(n.Threshold);
            var mask = Vector512.Create(n.Mask);
            ref float column = ref Unsafe.Add(ref x, n.Column);
            var rightA = Vector512.GreaterThan(Vector512.LoadUnsafe(ref column), threshold).AsUInt32();
            var rightB = Vector512.GreaterThan(Vector512.LoadUnsafe(ref column, 16), threshold).AsUInt32();

            // With AVX-512 this is a compare into a mask register and a masked AND per 16 rows.
            a = Vector512.ConditionalSelect(rightA, a & mask, a);
            b = Vector512.ConditionalSelect(rightB, b & mask, b);
            n = ref Unsafe.Add(ref n, 1);
        }

        // The tree's (up to) 32 leaf values sit in four registers; each row's value is picked by two-table permutes
        // (the low and high 16 leaves) and a select on the index, instead of a memory gather.
        var leafA = LowestBit(a);
        var leafB = LowestBit(b);
        var l0 = Vector512.Load(leaves);
        var l1 = Vector512.Load(leaves + 8);
        var l2 = Vector512.Load(leaves + 16);
        var l3 = Vector512.Load(leaves + 24);
        Add(ref sums, 0, l0, l1, l2, l3, leafA.GetLower());
        Add(ref sums, 8, l0, l1, l2, l3, leafA.GetUpper());
        Add(ref sums, 16, l0, l1, l2, l3, leafB.GetLower());
        Add(ref sums, 24, l0, l1, l2, l3, leafB.GetUpper());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add(ref double sums, int row, Vector512<double> l0, Vector512<double> l1, Vector512<double> l2, Vector512<double> l3, Vector256<int> leaf)
    {
        var index = Avx512F.ConvertToVector512Int64(leaf);
        var low = Avx512F.PermuteVar8x64x2(l0, index, l1);
        var high = Avx512F.PermuteVar8x64x2(l2, index, l3);
        var value = Vector512.ConditionalSelect(Vector512.GreaterThan(index, Vector512.Create(15L)).AsDouble(), high, low);
        ref double at = ref Unsafe.Add(ref sums, row);
        Vector512.StoreUnsafe(Vector512.LoadUnsafe(ref at) + value, ref at);
    }

    /// <inheritdoc cref="Tree512"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Tree256(ref MaskNode n, ref MaskNode end, ref float x, double* leaves, ref double sums)
    {
        var a = Vector256<uint>.AllBitsSet;
        var b = Vector256<uint>.AllBitsSet;
        var c = Vector256<uint>.AllBitsSet;
        var d = Vector256<uint>.AllBitsSet;
        while (Unsafe.IsAddressLessThan(ref n, ref end))
        {
            var threshold = Vector256.Create(n.Threshold);

            // A lane keeps its bits where it goes left (all-ones) and AND-s the mask where it goes right.
            var mask = Vector256.Create(n.Mask);
            ref float column = ref Unsafe.Add(ref x, n.Column);
            a &= mask | Vector256.LessThanOrEqual(Vector256.LoadUnsafe(ref column), threshold).AsUInt32();
            b &= mask | Vector256.LessThanOrEqual(Vector256.LoadUnsafe(ref column, 8), threshold).AsUInt32();
            c &= mask | Vector256.LessThanOrEqual(Vector256.LoadUnsafe(ref column, 16), threshold).AsUInt32();
            d &= mask | Vector256.LessThanOrEqual(Vector256.LoadUnsafe(ref column, 24), threshold).AsUInt32();
            n = ref Unsafe.Add(ref n, 1);
        }

        var leafA = LowestBit(a);
        var leafB = LowestBit(b);
        var leafC = LowestBit(c);
        var leafD = LowestBit(d);
        Add(ref sums, 0, leaves, leafA.GetLower());
        Add(ref sums, 4, leaves, leafA.GetUpper());
        Add(ref sums, 8, leaves, leafB.GetLower());
        Add(ref sums, 12, leaves, leafB.GetUpper());
        Add(ref sums, 16, leaves, leafC.GetLower());
        Add(ref sums, 20, leaves, leafC.GetUpper());
        Add(ref sums, 24, leaves, leafD.GetLower());
        Add(ref sums, 28, leaves, leafD.GetUpper());
    }

    /// <summary>
    /// Index of each lane's lowest set bit (the lane is never 0: the exit leaf survives every mask). The isolated bit is a
    /// power of two, which converts to float exactly (bit 31 as −2³¹), so the float's exponent field is the index.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> LowestBit(Vector512<uint> v)
    {
        var bit = Vector512.ConvertToSingle((v & -v).AsInt32()).AsInt32();
        return (Vector512.ShiftRightLogical(bit, 23) & Vector512.Create(0xFF)) - Vector512.Create(127);
    }

    /// <inheritdoc cref="LowestBit(Vector512{uint})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> LowestBit(Vector256<uint> v)
    {
        var bit = Vector256.ConvertToSingle((v & -v).AsInt32()).AsInt32();
        return (Vector256.ShiftRightLogical(bit, 23) & Vector256.Create(0xFF)) - Vector256.Create(127);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Add(ref double sums, int row, double* leaves, Vector128<int> leaf)
    {
        ref double at = ref Unsafe.Add(ref sums, row);
        Vector256.StoreUnsafe(Vector256.LoadUnsafe(ref at) + Avx2.GatherVector256(leaves, leaf, 8), ref at);
    }
}
