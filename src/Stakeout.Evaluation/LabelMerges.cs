namespace Stakeout.Evaluation;

/// <summary>
/// Labels compared as one, so that a model can be measured on data labelled by another taxonomy: <c>DDoS=DoS</c> counts
/// the model's DDoS predictions and the data's DDoS rows as DoS (the probabilities of merged classes add up). Built once
/// from <c>FROM=TO</c> texts (FROM may list several labels: <c>DoS,DDoS=Flood</c>); chains resolve to their end
/// (<c>A=B</c>, <c>B=C</c> sends A to C) and a cycle is refused. Names are compared exactly, after trimming.
/// </summary>
public sealed class LabelMerges
{
    private readonly Dictionary<string, string> _map;

    private LabelMerges(Dictionary<string, string> map) => _map = map;

    /// <summary>No merge.</summary>
    public static LabelMerges None { get; } = new(new Dictionary<string, string>(StringComparer.Ordinal));

    /// <summary>Each merged label and the label it is compared as (chains resolved).</summary>
    public IReadOnlyDictionary<string, string> Map => _map;

    /// <summary>The label <paramref name="label"/> is compared as.</summary>
    public string Apply(string label) => _map.TryGetValue(label, out string? to) ? to : label;

    /// <summary>Parses <c>FROM=TO</c> texts (as given to <c>--merge-labels</c>); the error names the text and why.</summary>
    public static LabelMerges Parse(IEnumerable<string> texts, string option = "--merge-labels")
    {
        ArgumentNullException.ThrowIfNull(texts);
        var direct = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string text in texts)
        {
            int eq = text?.IndexOf('=', StringComparison.Ordinal) ?? -1;
            string to = eq < 0 ? "" : text![(eq + 1)..].Trim();
            var froms = eq <= 0 ? [] : text![..eq].Split(',', StringSplitOptions.TrimEntries);
            if (to.Length == 0 || froms.Length == 0 || froms.Any(f => f.Length == 0) || to.Contains('=', StringComparison.Ordinal))
            {
                throw new ArgumentException($"{option} takes FROM=TO (e.g. DDoS=DoS, or DoS,DDoS=Flood); got '{text}'.", option);
            }

            foreach (string from in froms)
            {
                if (from == to)
                {
                    continue;
                }

                if (direct.TryGetValue(from, out string? earlier) && earlier != to)
                {
                    throw new ArgumentException($"{option}: '{from}' is merged into both '{earlier}' and '{to}'.", option);
                }

                direct[from] = to;
            }
        }

        var resolved = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string from in direct.Keys)
        {
            string at = from;
            var seen = new HashSet<string>(StringComparer.Ordinal) { from };
            while (direct.TryGetValue(at, out string? next))
            {
                if (!seen.Add(next))
                {
                    throw new ArgumentException($"{option}: the merges of '{from}' form a cycle ({string.Join(" -> ", seen)} -> {next}).", option);
                }

                at = next;
            }

            resolved[from] = at;
        }

        return new LabelMerges(resolved);
    }
}
