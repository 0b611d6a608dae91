using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Stakeout.Models.Scoring;

/// <summary>One split of a bit-vector tree: 12 bytes, read once per 32 rows.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct MaskNode(float Threshold, int Column, uint Mask);

/// <summary>
/// The AVX-512 bit-vector walk (QuickScorer's idea, vectorised over rows) for trees of at most <see cref="VectorLeaves"/>
/// leaves. Leaves are numbered left to right, leaf i being bit 31 − i of a 32-bit word. A row that goes right at a split
/// can never reach a leaf of that split's left subtree, so each split carries a mask with those leaves' bits cleared; the
/// row's exit leaf is the leftmost leaf no split it goes right at has cleared, i.e. the highest bit left after AND-ing the
/// masks of all such splits. Every split is evaluated for the block's 32 rows at once (two 16-lane registers): the rows'
/// values of the split's feature are one contiguous load from the column-major scratch, the comparison is the scalar
/// path's float one, and the masks are AND-ed where it says "right". No gathers, no dependence on the path, no branch;
/// the leaf is one leading-zero count. Leaf values are added per row in tree order, so results do not change. Trees with
/// more leaves, and machines without AVX-512, use the scalar lock-step walk.
/// </summary>
internal sealed partial class TreeEnsembleScorer
{
    /// <summary>Leaves a tree may have for the bit-vector walk (one 32-bit word per row).</summary>
    private const int VectorLeaves = 32;

    // Per vector tree: its splits in _maskNodes[_maskStart[t] .. _maskStart[t + 1]) and its leaf values left to right
    // from _maskLeaves[_maskLeafBase[t]].
    private MaskNode[] _maskNodes = [];
    private int[] _maskStart = [];
    private double[] _maskLeaves = [];
    private int[] _maskLeafBase = [];
    private bool[] _vectorTree = [];

    private static bool VectorWalkSupported =>
        Avx512F.IsSupported && Avx512CD.IsSupported && Avx2.IsSupported && BlockRows == 2 * Vector512<float>.Count;

    private void CompileVector(Dictionary<int, int> columnOf)
    {
        int trees = _roots.Length;
        _vectorTree = new bool[trees];
        _maskStart = new int[trees + 1];
        _maskLeafBase = new int[trees];
        if (!VectorWalkSupported)
        {
            return;
        }

        var nodes = new List<MaskNode>();
        var leaves = new List<double>();
        for (int t = 0; t < trees; t++)
        {
            _maskStart[t] = nodes.Count;
            int root = _roots[t];
            if (root >= 0 && LeafCount(root) <= VectorLeaves)
            {
                _vectorTree[t] = true;
                _maskLeafBase[t] = leaves.Count;
                AddMasked(root, leaves.Count, nodes, leaves, columnOf);
            }
        }

        _maskStart[trees] = nodes.Count;
        _maskNodes = [.. nodes];
        _maskLeaves = [.. leaves];
    }

    private int LeafCount(int node) => node < 0 ? 1 : LeafCount(_nodes[node].Left) + LeafCount(_nodes[node].Right);

    /// <summary>
    /// Appends the subtree's leaves left to right and its splits with their masks; returns how many leaves it has.
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

        // Bits 31 − firstLeft down to 31 − (firstLeft + leftLeaves − 1): the left subtree's leaves.
        uint left = (uint)(((1UL << leftLeaves) - 1) << (VectorLeaves - firstLeft - leftLeaves));
        nodes[index] = new MaskNode(FloatThreshold(c.Threshold), columnOf[c.Feature] * BlockRows, ~left);
        return leftLeaves + rightLeaves;
    }

    private unsafe void WalkVectorTree(int t, Span<float> scratch, Span<double> raw)
    {
        ref MaskNode first = ref MemoryMarshal.GetArrayDataReference(_maskNodes);
        ref MaskNode n = ref Unsafe.Add(ref first, _maskStart[t]);
        ref MaskNode end = ref Unsafe.Add(ref first, _maskStart[t + 1]);
        ref float x = ref MemoryMarshal.GetReference(scratch);
        var a = Vector512<uint>.AllBitsSet;
        var b = Vector512<uint>.AllBitsSet;

        // Unchecked reads are safe: the range and columns were built in range by CompileVector, and the scratch holds
        // every column for BlockRows rows (lanes past the block's last row read stale values and are never read back).
        while (Unsafe.IsAddressLessThan(ref n, ref end))
        {
            var threshold = Vector512.Create(n.Threshold);
            var mask = Vector512.Create(n.Mask);
            ref float column = ref Unsafe.Add(ref x, n.Column);
            var rightA = Vector512.GreaterThan(Vector512.LoadUnsafe(ref column), threshold).AsUInt32();
            var rightB = Vector512.GreaterThan(Vector512.LoadUnsafe(ref column, 16), threshold).AsUInt32();

            // Compiles to a compare into a mask register and a masked AND per 16 rows.
            a = Vector512.ConditionalSelect(rightA, a & mask, a);
            b = Vector512.ConditionalSelect(rightB, b & mask, b);
            n = ref Unsafe.Add(ref n, 1);
        }

        // The exit leaf survives every mask, so each word is non-zero and its leading zeros are the leaf's position.
        var leafBase = Vector512.Create(_maskLeafBase[t]);
        var leafA = Avx512CD.LeadingZeroCount(a).AsInt32() + leafBase;
        var leafB = Avx512CD.LeadingZeroCount(b).AsInt32() + leafBase;
        ref double sums = ref Unsafe.Add(ref MemoryMarshal.GetReference(raw), _treeClass[t] * BlockRows);
        fixed (double* leaves = _maskLeaves)
        {
            Add(ref sums, 0, leaves, leafA.GetLower().GetLower());
            Add(ref sums, 4, leaves, leafA.GetLower().GetUpper());
            Add(ref sums, 8, leaves, leafA.GetUpper().GetLower());
            Add(ref sums, 12, leaves, leafA.GetUpper().GetUpper());
            Add(ref sums, 16, leaves, leafB.GetLower().GetLower());
            Add(ref sums, 20, leaves, leafB.GetLower().GetUpper());
            Add(ref sums, 24, leaves, leafB.GetUpper().GetLower());
            Add(ref sums, 28, leaves, leafB.GetUpper().GetUpper());
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Add(ref double sums, int row, double* leaves, Vector128<int> leaf)
    {
        ref double at = ref Unsafe.Add(ref sums, row);
        Vector256.StoreUnsafe(Vector256.LoadUnsafe(ref at) + Avx2.GatherVector256(leaves, leaf, 8), ref at);
    }
}
