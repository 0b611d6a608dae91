using System.Buffers;
using Stakeout.Core;

namespace Stakeout.Models.Scoring;

/// <summary>
/// Exact path-dependent TreeSHAP (Lundberg, Erion and Lee, "Consistent Individualized Feature Attribution for Tree
/// Ensembles", 2018, Algorithm 2): the Shapley values of the game v(S) = E[f(x) | x_S], the expectation taken over the
/// training distribution as the node covers (leaf_count, internal_count) describe it. Written from the paper's pseudocode;
/// cost O(leaves × depth²) per tree.
/// </summary>
internal sealed partial class TreeEnsembleScorer
{
    private readonly double[] _nodeCover;
    private readonly double[] _leafCover;
    private readonly int[] _treeDepth;
    private readonly double[] _treeExpected;
    private readonly int _shapPathCapacity;

    /// <summary>One element of the path of unique features from the root: who splits, and the weights of its subsets.</summary>
    private struct PathElement
    {
        public int Feature;
        public double ZeroFraction; // share of the cover that follows this path when the feature is not known
        public double OneFraction;  // 1 when the row itself follows this path, 0 otherwise
        public double Weight;       // proportion of the subsets of a given size, as the recursion builds them
    }

    /// <inheritdoc />
    public void Explain(ReadOnlySpan<float> row, int classIndex, Span<double> contributions)
    {
        ScorerShapes.CheckExplain(row, classIndex, Classes.Count, contributions);
        Span<double> phi = contributions[..(FeatureSchema.Count + 1)];
        phi.Clear();
        Span<double> x = stackalloc double[FeatureSchema.Count];
        NonFiniteMapping.Prepare(row, x, _nanZeroInfMax);

        // The pool reuses buffers across calls, so steady-state explanation allocates nothing.
        PathElement[] path = ArrayPool<PathElement>.Shared.Rent(_shapPathCapacity);
        try
        {
            int treeClass = _binary ? 0 : classIndex;
            for (int t = 0; t < _roots.Length; t++)
            {
                if (_treeClass[t] != treeClass)
                {
                    continue;
                }

                phi[FeatureSchema.Count] += _treeExpected[t];
                if (_roots[t] >= 0)
                {
                    Recurse(_roots[t], x, phi, path, 0, 0, 1, 1, -1);
                }
            }
        }
        finally
        {
            ArrayPool<PathElement>.Shared.Return(path);
        }

        if (_binary && classIndex == 0)
        {
            // Class 0's margin is the negated positive margin, so its explanation is too.
            for (int i = 0; i < phi.Length; i++)
            {
                phi[i] = -phi[i];
            }
        }
    }

    /// <summary>
    /// One step of the recursion. The path of the parent lives at <paramref name="parentStart"/> with
    /// <paramref name="depth"/> + 0 elements in use; this call extends a copy of it placed just after.
    /// </summary>
    private void Recurse(int node, ReadOnlySpan<double> x, Span<double> phi, PathElement[] buffer, int parentStart, int depth,
        double zeroFraction, double oneFraction, int feature)
    {
        int start = parentStart + depth; // parent used `depth` slots from parentStart
        Span<PathElement> path = buffer.AsSpan(start, depth + 1);
        buffer.AsSpan(parentStart, depth).CopyTo(path);
        Extend(path, depth, zeroFraction, oneFraction, feature);

        if (node < 0)
        {
            double value = _leafValues[~node];
            for (int i = 1; i <= depth; i++)
            {
                double w = UnwoundSum(path, depth, i);
                phi[path[i].Feature] += w * (path[i].OneFraction - path[i].ZeroFraction) * value;
            }

            return;
        }

        ref readonly CompiledNode n = ref _nodes[node];
        int hot = Next(in n, x);
        int cold = hot == n.Left ? n.Right : n.Left;
        double cover = _nodeCover[node];
        // A node no training row reached has no conditional distribution; its children get weight 0 (as 0/0 := 0).
        double hotFraction = cover > 0 ? Cover(hot) / cover : 0;
        double coldFraction = cover > 0 ? Cover(cold) / cover : 0;

        double incomingZero = 1;
        double incomingOne = 1;
        int pathDepth = depth;
        int k = 1;
        while (k <= pathDepth && path[k].Feature != n.Feature)
        {
            k++;
        }

        if (k <= pathDepth)
        {
            // The feature already split above: undo its earlier extension and carry its fractions down instead.
            incomingZero = path[k].ZeroFraction;
            incomingOne = path[k].OneFraction;
            Unwind(path, pathDepth, k);
            pathDepth--;
        }

        // A branch whose zero and one fractions are both 0 (no training row reached it, and the row does not take it)
        // adds 0 to every attribution; skipping it is exact and avoids the 0/0 its unwinding would compute.
        double hotZero = hotFraction * incomingZero;
        if (hotZero != 0 || incomingOne != 0)
        {
            Recurse(hot, x, phi, buffer, start, pathDepth + 1, hotZero, incomingOne, n.Feature);
        }

        double coldZero = coldFraction * incomingZero;
        if (coldZero != 0)
        {
            Recurse(cold, x, phi, buffer, start, pathDepth + 1, coldZero, 0, n.Feature);
        }
    }

    private double Cover(int child) => child >= 0 ? _nodeCover[child] : _leafCover[~child];

    /// <summary>Adds a feature to the path, updating the subset-size weights.</summary>
    private static void Extend(Span<PathElement> path, int depth, double zeroFraction, double oneFraction, int feature)
    {
        path[depth] = new PathElement { Feature = feature, ZeroFraction = zeroFraction, OneFraction = oneFraction, Weight = depth == 0 ? 1 : 0 };
        for (int i = depth - 1; i >= 0; i--)
        {
            path[i + 1].Weight += oneFraction * path[i].Weight * (i + 1) / (depth + 1);
            path[i].Weight = zeroFraction * path[i].Weight * (depth - i) / (depth + 1);
        }
    }

    /// <summary>Removes element <paramref name="index"/> from the path, undoing its <see cref="Extend"/>.</summary>
    private static void Unwind(Span<PathElement> path, int depth, int index)
    {
        double one = path[index].OneFraction;
        double zero = path[index].ZeroFraction;
        double next = path[depth].Weight;
        for (int i = depth - 1; i >= 0; i--)
        {
            if (one != 0)
            {
                double w = path[i].Weight;
                path[i].Weight = next * (depth + 1) / ((i + 1) * one);
                next = w - path[i].Weight * zero * (depth - i) / (depth + 1);
            }
            else
            {
                path[i].Weight = path[i].Weight * (depth + 1) / (zero * (depth - i));
            }
        }

        for (int i = index; i < depth; i++)
        {
            path[i].Feature = path[i + 1].Feature;
            path[i].ZeroFraction = path[i + 1].ZeroFraction;
            path[i].OneFraction = path[i + 1].OneFraction;
        }
    }

    /// <summary>The total weight the path would have with element <paramref name="index"/> unwound, without changing it.</summary>
    private static double UnwoundSum(ReadOnlySpan<PathElement> path, int depth, int index)
    {
        double one = path[index].OneFraction;
        double zero = path[index].ZeroFraction;
        double next = path[depth].Weight;
        double total = 0;
        for (int i = depth - 1; i >= 0; i--)
        {
            if (one != 0)
            {
                double w = next * (depth + 1) / ((i + 1) * one);
                total += w;
                next = path[i].Weight - w * zero * (depth - i) / (depth + 1);
            }
            else
            {
                total += path[i].Weight / zero * (depth + 1) / (depth - i);
            }
        }

        return total;
    }
}
