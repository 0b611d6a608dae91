using System.Globalization;
using System.Text;
using Stakeout.Core;

namespace Stakeout.Training.Tests;

/// <summary>Small synthetic flow CSVs in the CIC-IDS2017 MachineLearningCVE layout, written to a temporary directory.</summary>
internal sealed class Fixtures : IDisposable
{
    public Fixtures() => Directory.CreateDirectory(Root);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "stakeout-training-" + Guid.NewGuid().ToString("N"));

    /// <summary>
    /// Writes rows of <paramref name="labels"/>, each class shifted on a few features so a model can learn them;
    /// <paramref name="skip"/> leaves a feature column out of the file.
    /// </summary>
    public string Write(string name, IReadOnlyList<(string Label, int Count)> labels, int seed, int? skip = null, Func<int, int, float>? value = null)
    {
        var random = new Random(seed);
        var sb = new StringBuilder();
        var names = FeatureSchema.Names.Where((_, i) => i != skip).Select(n => n == "Fwd Header Length.1" ? "Fwd Header Length" : n);
        sb.Append(string.Join(',', names)).Append(",Label\n");
        for (int c = 0; c < labels.Count; c++)
        {
            for (int r = 0; r < labels[c].Count; r++)
            {
                for (int f = 0; f < FeatureSchema.Count; f++)
                {
                    if (f == skip)
                    {
                        continue;
                    }

                    float v = value?.Invoke(c, f) ?? (f < 6 ? (float)((c * 10) + (random.NextDouble() * 6)) : f == 20 ? 7 : (float)random.Next(0, 3));
                    sb.Append(v.ToString(CultureInfo.InvariantCulture)).Append(',');
                }

                sb.Append(labels[c].Label).Append('\n');
            }
        }

        string path = Path.Combine(Root, name);
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}

/// <summary>A training log that keeps its lines, for tests that check what a run said.</summary>
internal sealed class ListLog : ITrainingLog
{
    public List<string> Lines { get; } = [];

    public void Info(string message) => Lines.Add(message);
}
