using Stakeout.Core;
using Stakeout.Ingest;

namespace Stakeout.Reports;

/// <summary>
/// A seeded, bounded sample of rows per label group, taken while the data streams past (reservoir sampling, Vitter's
/// algorithm R): what the data report draws its distributions and correlations from without holding the data. Groups
/// are families (the data's own label when it is coarser, e.g. ATTACK), so a 15-class day stays readable; every group
/// keeps up to <see cref="PerGroup"/> rows, so a 21-row class is drawn whole beside a million-row one.
/// </summary>
public sealed class DataSample
{
    private readonly Dictionary<string, Group> _groups = new(StringComparer.Ordinal);
    private readonly Random _random;

    /// <summary>A sample keeping up to <paramref name="perGroup"/> rows of each group, drawn with <paramref name="seed"/>.</summary>
    public DataSample(int perGroup = 4000, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perGroup, 1);
        PerGroup = perGroup;
        Seed = seed;
        _random = new Random(seed);
    }

    /// <summary>Rows kept per group at most.</summary>
    public int PerGroup { get; }

    /// <summary>The sampling seed.</summary>
    public int Seed { get; }

    /// <summary>Group names, in the taxonomy's family order, then unknown ones by name.</summary>
    public IReadOnlyList<string> Groups =>
        [.. _groups.Keys.OrderBy(g => Order(g)).ThenBy(g => g, StringComparer.Ordinal)];

    /// <summary>Rows seen of <paramref name="group"/>.</summary>
    public long Seen(string group) => _groups[group].Seen;

    /// <summary>Rows kept of <paramref name="group"/> (each <see cref="FeatureSchema.Count"/> floats).</summary>
    public IReadOnlyList<float[]> Rows(string group) => _groups[group].Rows;

    /// <summary>Every kept row with its group.</summary>
    public IEnumerable<(string Group, float[] Row)> All() =>
        Groups.SelectMany(g => _groups[g].Rows.Select(r => (g, r)));

    /// <summary>Adds a batch; <paramref name="labels"/> resolves its label ids (unlabelled rows form the group "unlabelled").</summary>
    public void Add(FlowBatch batch, LabelVocabulary labels)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(labels);
        for (int r = 0; r < batch.Count; r++)
        {
            int id = batch.LabelIds[r];
            string group = id < 0 ? "unlabelled" : GroupOf(labels[id]);
            if (!_groups.TryGetValue(group, out var g))
            {
                g = new Group();
                _groups.Add(group, g);
            }

            g.Seen++;
            int slot;
            if (g.Rows.Count < PerGroup)
            {
                g.Rows.Add(new float[FeatureSchema.Count]);
                slot = g.Rows.Count - 1;
            }
            else
            {
                long j = _random.NextInt64(g.Seen);
                if (j >= PerGroup)
                {
                    continue;
                }

                slot = (int)j;
            }

            batch.Features.AsSpan(r * FeatureSchema.Count, FeatureSchema.Count).CopyTo(g.Rows[slot]);
        }
    }

    /// <summary>The group of a label: its family, or its own name when it is coarser (ATTACK).</summary>
    public static string GroupOf(LabelDefinition label)
    {
        ArgumentNullException.ThrowIfNull(label);
        return label.Level <= LabelLevel.Family ? label.Family : label.Name;
    }

    private static int Order(string group)
    {
        for (int i = 0; i < LabelTaxonomy.Families.Count; i++)
        {
            if (LabelTaxonomy.Families[i] == group)
            {
                return i;
            }
        }

        return LabelTaxonomy.Families.Count;
    }

    private sealed class Group
    {
        public long Seen { get; set; }

        public List<float[]> Rows { get; } = [];
    }
}
