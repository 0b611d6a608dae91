using System.Net;
using System.Text;
using FsCheck.Xunit;

namespace Stakeout.Core.Tests;

public sealed class ValueTypesTests
{
    [Theory]
    [InlineData("192.168.10.50", "192.168.10.50")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("255.255.255.255", "255.255.255.255")]
    [InlineData("fe80::1", "fe80::1")]
    [InlineData("2001:db8::ff00:42:8329", "2001:db8::ff00:42:8329")]
    public void TryParse_ValidAddress_RoundTrips(string text, string expected)
    {
        Assert.True(IpAddressValue.TryParse(Encoding.ASCII.GetBytes(text), out var value));
        Assert.True(value.HasValue);
        Assert.Equal(!text.Contains(':', StringComparison.Ordinal), value.IsIPv4);
        Assert.Equal(expected, value.ToString());
        Assert.Equal(IPAddress.Parse(text), value.ToIPAddress());
    }

    [Theory]
    [InlineData("")]
    [InlineData("256.1.1.1")]
    [InlineData("1.2.3")]
    [InlineData("1.2.3.4.5")]
    [InlineData("1.2.3.4 ")]
    [InlineData("1..2.3")]
    [InlineData("1234.1.1.1")]
    [InlineData("a.b.c.d")]
    [InlineData("::g")]
    [InlineData("80")]
    public void TryParse_NotAnAddress_IsFalse(string text)
    {
        Assert.False(IpAddressValue.TryParse(Encoding.ASCII.GetBytes(text), out var value));
        Assert.False(value.HasValue);
    }

    [Fact]
    public void None_HasNoValueAndPrintsEmpty()
    {
        Assert.False(IpAddressValue.None.HasValue);
        Assert.Null(IpAddressValue.None.ToIPAddress());
        Assert.Equal(string.Empty, IpAddressValue.None.ToString());
        Assert.Equal(-1, FlowIdentity.Empty.SourcePort);
        Assert.Equal(-1, FlowIdentity.Empty.DestinationPort);
        Assert.Equal(-1, FlowIdentity.Empty.Protocol);
    }

    [Property(MaxTest = 2000, Replay = "(17,43)")]
    public bool TryParse_AnyIPv4_RoundTripsThroughText(uint v)
    {
        var expected = IpAddressValue.FromIPv4(v);
        return IpAddressValue.TryParse(Encoding.ASCII.GetBytes(expected.ToString()), out var parsed) && parsed == expected
            && parsed.ToIPAddress()!.Equals(new IPAddress([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]));
    }

    [Property(MaxTest = 1000, Replay = "(5,99)")]
    public bool TryParse_AnyIPv6_RoundTripsThroughText(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        {
            byte[] b = new byte[16];
            Array.Copy(bytes, b, Math.Min(16, bytes.Length));
            var address = new IPAddress(b);
            if (address.IsIPv4MappedToIPv6)
            {
                return true; // prints as dotted-quad; covered by the IPv4 property
            }

            var expected = IpAddressValue.From(address);
            return IpAddressValue.TryParse(Encoding.ASCII.GetBytes(address.ToString()), out var parsed) && parsed == expected && parsed.ToIPAddress()!.Equals(address);
        }
    }

    [Fact]
    public void FlowBatch_Row_ViewsTheRowAndGuardsTheRange()
    {
        var batch = new FlowBatch(2, withIdentity: true);
        batch.Features[FeatureSchema.Count + 3] = 7f;
        batch.Count = 2;

        Assert.Equal(7f, batch.Row(1)[3]);
        Assert.Equal(FeatureSchema.Count, batch.Row(0).Length);
        Assert.Equal(2, batch.Capacity);
        Assert.NotNull(batch.Identities);
        Assert.NotNull(batch.FlowIds);
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.Row(2));
        Assert.Null(new FlowBatch(1, withIdentity: false).Identities);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FlowBatch(0, withIdentity: false));
    }

    [Fact]
    public void FlowBatch_MoveRow_CopiesEveryColumnOfTheRowAndGuardsTheRange()
    {
        var batch = new FlowBatch(3, withIdentity: true);
        batch.Features[(2 * FeatureSchema.Count) + 5] = 9f;
        batch.LabelIds[2] = 4;
        batch.Lines[2] = 17;
        batch.Identities![2] = batch.Identities[2] with { SourcePort = 4444 };
        batch.FlowIds![2] = "flow-2";

        batch.MoveRow(2, 0);
        batch.Count = 1;

        Assert.Equal(9f, batch.Row(0)[5]);
        Assert.Equal(4, batch.LabelIds[0]);
        Assert.Equal(17, batch.Lines[0]);
        Assert.Equal(4444, batch.Identities[0].SourcePort);
        Assert.Equal("flow-2", batch.FlowIds[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.MoveRow(3, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.MoveRow(0, -1));
    }
}
