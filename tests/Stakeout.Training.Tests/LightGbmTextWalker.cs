using System.Globalization;

namespace Stakeout.Training.Tests;

/// <summary>
/// An independent reading of LightGBM's text model format, written from the format's description (not from the exporter):
/// the reference the exporter's output is checked against until the fast scorer exists.
/// </summary>
internal sealed class LightGbmTextWalker
{
    private readonly List<Dictionary<string, string>> _trees = [];

    public LightGbmTextWalker(string text)
    {
        Dictionary<string, string>? current = null;
        foreach (string line in text.Split('\n'))
        {
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
                _trees.Add(current);
            }
            else if (current is null)
            {
                Header[key] = value;
            }
            else
            {
                current[key] = value;
            }
        }
    }

    public Dictionary<string, string> Header { get; } = new(StringComparer.Ordinal);

    public int TreeCount => _trees.Count;

    public IReadOnlyDictionary<string, string> Tree(int t) => _trees[t];

    public static double[] Doubles(string s) => s.Length == 0 ? [] : [.. s.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture))];

    public static int[] Ints(string s) => s.Length == 0 ? [] : [.. s.Split(' ').Select(v => int.Parse(v, CultureInfo.InvariantCulture))];

    public double[] Probabilities(ReadOnlySpan<float> inputs)
    {
        int perIteration = int.Parse(Header["num_tree_per_iteration"], CultureInfo.InvariantCulture);
        var raw = new double[perIteration];
        for (int t = 0; t < _trees.Count; t++)
        {
            var tree = _trees[t];
            var leaves = Doubles(tree["leaf_value"]);
            int leaf = 0;
            if (int.Parse(tree["num_leaves"], CultureInfo.InvariantCulture) > 1)
            {
                var feature = Ints(tree["split_feature"]);
                var threshold = Doubles(tree["threshold"]);
                var left = Ints(tree["left_child"]);
                var right = Ints(tree["right_child"]);
                int node = 0;
                while (node >= 0)
                {
                    node = inputs[feature[node]] <= threshold[node] ? left[node] : right[node];
                }

                leaf = ~node;
            }

            raw[t % perIteration] += leaves[leaf];
        }

        string objective = Header["objective"];
        if (objective.StartsWith("binary", StringComparison.Ordinal))
        {
            double s = double.Parse(objective[(objective.IndexOf(':', StringComparison.Ordinal) + 1)..], CultureInfo.InvariantCulture);
            double p = 1 / (1 + Math.Exp(-s * raw[0]));
            return [1 - p, p];
        }

        double max = raw.Max();
        var e = raw.Select(r => Math.Exp(r - max)).ToArray();
        double sum = e.Sum();
        return [.. e.Select(v => v / sum)];
    }
}
