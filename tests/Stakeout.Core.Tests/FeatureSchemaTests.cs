using Stakeout.TestData;

namespace Stakeout.Core.Tests;

public sealed class FeatureSchemaTests
{
    /// <summary>The MachineLearningCVE header of CIC-IDS2017 as the official files write it (the second Fwd Header Length renamed).</summary>
    internal static readonly string[] CicIds2017Names =
    [
        "Destination Port", "Flow Duration", "Total Fwd Packets", "Total Backward Packets", "Total Length of Fwd Packets",
        "Total Length of Bwd Packets", "Fwd Packet Length Max", "Fwd Packet Length Min", "Fwd Packet Length Mean",
        "Fwd Packet Length Std", "Bwd Packet Length Max", "Bwd Packet Length Min", "Bwd Packet Length Mean",
        "Bwd Packet Length Std", "Flow Bytes/s", "Flow Packets/s", "Flow IAT Mean", "Flow IAT Std", "Flow IAT Max",
        "Flow IAT Min", "Fwd IAT Total", "Fwd IAT Mean", "Fwd IAT Std", "Fwd IAT Max", "Fwd IAT Min", "Bwd IAT Total",
        "Bwd IAT Mean", "Bwd IAT Std", "Bwd IAT Max", "Bwd IAT Min", "Fwd PSH Flags", "Bwd PSH Flags", "Fwd URG Flags",
        "Bwd URG Flags", "Fwd Header Length", "Bwd Header Length", "Fwd Packets/s", "Bwd Packets/s", "Min Packet Length",
        "Max Packet Length", "Packet Length Mean", "Packet Length Std", "Packet Length Variance", "FIN Flag Count",
        "SYN Flag Count", "RST Flag Count", "PSH Flag Count", "ACK Flag Count", "URG Flag Count", "CWE Flag Count",
        "ECE Flag Count", "Down/Up Ratio", "Average Packet Size", "Avg Fwd Segment Size", "Avg Bwd Segment Size",
        "Fwd Header Length.1", "Fwd Avg Bytes/Bulk", "Fwd Avg Packets/Bulk", "Fwd Avg Bulk Rate", "Bwd Avg Bytes/Bulk",
        "Bwd Avg Packets/Bulk", "Bwd Avg Bulk Rate", "Subflow Fwd Packets", "Subflow Fwd Bytes", "Subflow Bwd Packets",
        "Subflow Bwd Bytes", "Init_Win_bytes_forward", "Init_Win_bytes_backward", "act_data_pkt_fwd",
        "min_seg_size_forward", "Active Mean", "Active Std", "Active Max", "Active Min", "Idle Mean", "Idle Std", "Idle Max",
        "Idle Min",
    ];

    public static TheoryData<string, int> EveryAlias()
    {
        var data = new TheoryData<string, int>();
        foreach (var f in FeatureSchema.Features)
        {
            data.Add(f.Name, f.Index);
            foreach (string alias in f.Aliases)
            {
                data.Add(alias, f.Index);
            }
        }

        return data;
    }

    [Fact]
    public void Features_Table_Has78InIndexOrderWithUniqueNames()
    {
        Assert.Equal(78, FeatureSchema.Count);
        Assert.Equal(78, FeatureSchema.Features.Count);
        for (int i = 0; i < FeatureSchema.Count; i++)
        {
            Assert.Equal(i, FeatureSchema.Features[i].Index);
            Assert.Same(FeatureSchema.Features[i], FeatureSchema.Get(i));
            Assert.Equal(FeatureSchema.Features[i].Name, FeatureSchema.Names[i]);
        }

        Assert.Equal(78, FeatureSchema.Names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void Names_AreTheCicIds2017MachineLearningCveHeaderInOrder()
    {
        Assert.Equal(CicIds2017Names, FeatureSchema.Names);
    }

    [Theory]
    [MemberData(nameof(EveryAlias))]
    public void TryResolve_EveryNameAndAlias_GivesItsCanonicalIndex(string spelling, int index)
    {
        Assert.True(FeatureSchema.TryResolve(spelling, out int found), spelling);
        Assert.Equal(index, found);
        Assert.True(FeatureSchema.TryResolve(" " + spelling.ToUpperInvariant() + " ", out found), spelling);
        Assert.Equal(index, found);
    }

    [Fact]
    public void TryResolve_CicFlowMeterV4Header_CoversEveryFeatureButTheDuplicateInOrder()
    {
        int[] indices = [.. HeaderSpellings.CicFlowMeterV4Names.Select(Resolve)];

        int[] expected = [.. Enumerable.Range(0, 78).Where(i => i != FeatureSchema.FwdHeaderLengthDuplicate)];
        Assert.Equal(expected, indices);
    }

    [Fact]
    public void TryResolve_CseCicIds2018Header_CoversEveryFeatureButTheDuplicateInOrder()
    {
        int[] indices = [.. HeaderSpellings.CseCicIds2018Names.Select(Resolve)];

        int[] expected = [.. Enumerable.Range(0, 78).Where(i => i != FeatureSchema.FwdHeaderLengthDuplicate)];
        Assert.Equal(expected, indices);
    }

    [Theory]
    [InlineData(" Destination Port", 0)]
    [InlineData("Dst Port", 0)]
    [InlineData("flow_bytes_s", 14)]
    [InlineData("Flow Byts/s", 14)]
    [InlineData(" Fwd Header Length", 34)]
    [InlineData("Fwd Header Length.1", 55)]
    [InlineData("Init_Win_bytes_forward", 66)]
    [InlineData("FWD Init Win Bytes", 66)]
    [InlineData("Init Bwd Win Byts", 67)]
    [InlineData("CWR Flag Count", 49)]
    [InlineData("Pkt Len Min", 38)]
    [InlineData("Packet Length Max", 39)]
    [InlineData("Fwd Act Data Pkts", 68)]
    [InlineData("Fwd Seg Size Min", 69)]
    public void TryResolve_SpellingsSeenInTheWild_GiveTheRightIndex(string spelling, int index)
    {
        Assert.True(FeatureSchema.TryResolve(spelling, out int found));
        Assert.Equal(index, found);
    }

    [Theory]
    [InlineData("Src IP")]
    [InlineData("Timestamp")]
    [InlineData("Label")]
    [InlineData("Source Port")]
    [InlineData("Protocol")]
    [InlineData("Flow ID")]
    [InlineData("")]
    [InlineData("Fwd Header Length.2")]
    public void TryResolve_IdentityLabelOrUnknownName_IsNotAFeature(string name)
    {
        Assert.False(FeatureSchema.TryResolve(name, out _));
    }

    [Fact]
    public void Constants_NameTheFeaturesTheySay()
    {
        Assert.Equal("Destination Port", FeatureSchema.Get(FeatureSchema.DestinationPort).Name);
        Assert.Equal("Flow Duration", FeatureSchema.Get(FeatureSchema.FlowDuration).Name);
        Assert.Equal("Total Fwd Packets", FeatureSchema.Get(FeatureSchema.TotalFwdPackets).Name);
        Assert.Equal("Total Backward Packets", FeatureSchema.Get(FeatureSchema.TotalBackwardPackets).Name);
        Assert.Equal("Fwd Header Length", FeatureSchema.Get(FeatureSchema.FwdHeaderLength).Name);
        Assert.Equal("Fwd Header Length.1", FeatureSchema.Get(FeatureSchema.FwdHeaderLengthDuplicate).Name);
        Assert.Equal("Init_Win_bytes_forward", FeatureSchema.Get(FeatureSchema.InitWinBytesForward).Name);
        Assert.Equal("Init_Win_bytes_backward", FeatureSchema.Get(FeatureSchema.InitWinBytesBackward).Name);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(78)]
    public void Get_OutOfRange_ThrowsNamingTheArgument(int index)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => FeatureSchema.Get(index));
        Assert.Equal("index", ex.ParamName);
    }

    [Fact]
    public void NormalizeKey_KeepsOnlyLowerCaseLettersAndDigits()
    {
        Assert.Equal("fwdheaderlength1", FeatureSchema.NormalizeKey(" Fwd_Header Length.1 "));
        Assert.Equal("flowbytess", FeatureSchema.NormalizeKey("Flow Bytes/s"));
    }

    private static int Resolve(string name)
    {
        Assert.True(FeatureSchema.TryResolve(name, out int index), name);
        return index;
    }
}
