using System.Text;

namespace Stakeout.Cli;

/// <summary>
/// A table drawn with box-drawing characters, the way Spectre.Console draws its default table, for commands whose whole
/// run is a second or less (`stakeout flows`): Spectre's table renderer costs such a one-shot process about 60 ms, nearly
/// all of it compiling its code on first use (docs/benchmarks.md). Cells are left-aligned and never wrapped.
/// </summary>
internal sealed class TextTable
{
    private readonly string[] _columns;
    private readonly List<string[]> _rows = [];

    public TextTable(params string[] columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Length == 0)
        {
            throw new ArgumentException("a table needs at least one column", nameof(columns));
        }

        _columns = columns;
    }

    /// <summary>Adds a row of exactly one cell per column.</summary>
    public TextTable AddRow(params string[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != _columns.Length)
        {
            throw new ArgumentException($"the table has {_columns.Length} columns, the row {cells.Length} cells", nameof(cells));
        }

        _rows.Add(cells);
        return this;
    }

    /// <summary>The table as text, one line per border, header and row, each ending in a newline.</summary>
    public override string ToString()
    {
        var widths = new int[_columns.Length];
        for (int c = 0; c < widths.Length; c++)
        {
            widths[c] = _columns[c].Length;
            foreach (var row in _rows)
            {
                widths[c] = Math.Max(widths[c], row[c].Length);
            }
        }

        var text = new StringBuilder();
        Border(text, widths, '┌', '┬', '┐');
        Line(text, widths, _columns);
        Border(text, widths, '├', '┼', '┤');
        foreach (var row in _rows)
        {
            Line(text, widths, row);
        }

        Border(text, widths, '└', '┴', '┘');
        return text.ToString();
    }

    private static void Border(StringBuilder text, int[] widths, char left, char middle, char right)
    {
        text.Append(left);
        for (int c = 0; c < widths.Length; c++)
        {
            text.Append('─', widths[c] + 2).Append(c == widths.Length - 1 ? right : middle);
        }

        text.Append('\n');
    }

    private static void Line(StringBuilder text, int[] widths, string[] cells)
    {
        text.Append('│');
        for (int c = 0; c < widths.Length; c++)
        {
            text.Append(' ').Append(cells[c]).Append(' ', widths[c] - cells[c].Length + 1).Append('│');
        }

        text.Append('\n');
    }
}
