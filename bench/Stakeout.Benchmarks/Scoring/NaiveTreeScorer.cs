using System.Text;
using Stakeout.Core;
using Stakeout.Models.Scoring;

namespace Stakeout.Benchmarks.Scoring;

/// <summary>
/// The baseline: the same model and the same decision rule, but as the obvious object graph (one heap object per node,
/// children by reference), walked by pointer chasing. What a first implementation would do; everything else (input
/// mapping, double arithmetic, softmax) is identical to the fast scorer, so the comparison isolates the layout.
/// </summary>
internal sealed class NaiveTreeScorer
{
    private readonly Node[] _roots;
    private readonly int _classes;
    private readonly int[] _canonical;

    public NaiveTreeScorer(string modelText, int[] canonicalFeatures)
    {
        var model = LightGbmText.Parse(Encoding.UTF8.GetBytes(modelText), "bench");
        _classes = model.NumTreePerIteration;
        _canonical = canonicalFeatures;
        _roots = model.Trees.Select(t => t.NumLeaves == 1 ? new Node { Value = t.LeafValue[0] } : Build(t, 0)).ToArray();
    }

    public void Score(ReadOnlySpan<float> features, Span<float> probabilities)
    {
        int rows = features.Length / FeatureSchema.Count;
        Span<double> x = stackalloc double[FeatureSchema.Count];
        Span<double> raw = stackalloc double[_classes];
        for (int r = 0; r < rows; r++)
        {
            NonFiniteMapping.Prepare(features.Slice(r * FeatureSchema.Count, FeatureSchema.Count), x, nanZeroInfMax: true);
            raw.Clear();
            for (int t = 0; t < _roots.Length; t++)
            {
                Node n = _roots[t];
                while (n.Left is not null)
                {
                    n = n.GoesLeft(x[n.Feature]) ? n.Left : n.Right!;
                }

                raw[t % _classes] += n.Value;
            }

            double max = double.NegativeInfinity;
            foreach (double v in raw)
            {
                max = Math.Max(max, v);
            }

            double sum = 0;
            foreach (double v in raw)
            {
                sum += Math.Exp(v - max);
            }

            for (int c = 0; c < _classes; c++)
            {
                probabilities[(r * _classes) + c] = (float)(Math.Exp(raw[c] - max) / sum);
            }
        }
    }

    private Node Build(LightGbmTree t, int child)
    {
        if (child < 0)
        {
            return new Node { Value = t.LeafValue[~child] };
        }

        return new Node
        {
            Feature = _canonical[t.SplitFeature[child]],
            Threshold = t.Threshold[child],
            MissingType = LightGbmText.MissingType(t.DecisionType[child]),
            DefaultLeft = LightGbmText.DefaultLeft(t.DecisionType[child]),
            Left = Build(t, t.LeftChild[child]),
            Right = Build(t, t.RightChild[child]),
        };
    }

    private sealed class Node
    {
        public Node? Left { get; init; }

        public Node? Right { get; init; }

        public int Feature { get; init; }

        public double Threshold { get; init; }

        public int MissingType { get; init; }

        public bool DefaultLeft { get; init; }

        public double Value { get; init; }

        public bool GoesLeft(double v)
        {
            if (double.IsNaN(v) && MissingType != LightGbmText.MissingNaN)
            {
                v = 0;
            }

            if ((MissingType == LightGbmText.MissingZero && Math.Abs(v) <= 1e-35f) || (MissingType == LightGbmText.MissingNaN && double.IsNaN(v)))
            {
                return DefaultLeft;
            }

            return v <= Threshold;
        }
    }
}
