namespace Stakeout.Ingest;

/// <summary>Quote-aware field splitting for the rare lines that use quotes (RFC 4180: "" inside quotes is one quote).</summary>
internal static class CsvSplit
{
    /// <summary>Splits a header line into names, removing quotes.</summary>
    public static string[] SplitHeader(string line)
    {
        var fields = new List<string>();
        var current = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"')
                {
                    if (i + 1 < line.Length && line[i + 1] == '"')
                    {
                        current.Append('"');
                        i++;
                    }
                    else
                    {
                        quoted = false;
                    }
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        fields.Add(current.ToString());
        return [.. fields];
    }

    /// <summary>
    /// Splits a data line into field ranges, unquoting into <paramref name="scratch"/> when a field has quotes.
    /// Returns false when a quote is not closed. Ranges index <paramref name="scratch"/>.
    /// </summary>
    public static bool TrySplitQuoted(ReadOnlySpan<byte> line, List<(int Start, int Length)> ranges, List<byte> scratch)
    {
        ranges.Clear();
        scratch.Clear();
        int start = 0;
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            byte b = line[i];
            if (quoted)
            {
                if (b == (byte)'"')
                {
                    if (i + 1 < line.Length && line[i + 1] == (byte)'"')
                    {
                        scratch.Add((byte)'"');
                        i++;
                    }
                    else
                    {
                        quoted = false;
                    }
                }
                else
                {
                    scratch.Add(b);
                }
            }
            else if (b == (byte)'"')
            {
                quoted = true;
            }
            else if (b == (byte)',')
            {
                ranges.Add((start, scratch.Count - start));
                start = scratch.Count;
            }
            else
            {
                scratch.Add(b);
            }
        }

        ranges.Add((start, scratch.Count - start));
        return !quoted;
    }
}
