using Stakeout.Cli;

namespace Stakeout.Integration.Tests;

public sealed class TextTableTests
{
    [Fact]
    public void ToString_ColumnsWidenToTheirLongestCell_BordersCloseEveryLine()
    {
        string text = new TextTable("capture", "flows").AddRow("a-much-longer-name.pcap", "3").AddRow("b.pcap", "113,600").ToString();

        string[] lines = text.Split('\n');
        Assert.Equal(
            [
                "┌─────────────────────────┬─────────┐",
                "│ capture                 │ flows   │",
                "├─────────────────────────┼─────────┤",
                "│ a-much-longer-name.pcap │ 3       │",
                "│ b.pcap                  │ 113,600 │",
                "└─────────────────────────┴─────────┘",
                "",
            ],
            lines);
    }

    [Fact]
    public void AddRow_WrongCellCount_NamesBothCounts()
    {
        var table = new TextTable("a", "b");

        var ex = Assert.Throws<ArgumentException>(() => table.AddRow("only one"));
        Assert.Contains("2 columns, the row 1 cells", ex.Message, StringComparison.Ordinal);
    }
}
