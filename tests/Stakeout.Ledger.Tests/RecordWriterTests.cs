using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Stakeout.Ledger.Records;

namespace Stakeout.Ledger.Tests;

/// <summary>
/// The record writer emits canonical bytes directly; the JSON tree and the RFC 8785 canonicaliser are its oracle: for any
/// alert, the two must give the same bytes (or refuse it with the same error).
/// </summary>
public sealed class RecordWriterTests
{
    private static readonly string[] Alerts = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "TestData", "alerts.json"));

    [Fact]
    public void Serialize_EveryRealAlert_EqualsTheCanonicalFormOfTheTree()
    {
        var builder = new StixRecordBuilder("edge-1");
        for (int i = 0; i < Alerts.Length; i++)
        {
            Assert.True(EveObservationReader.TryRead(Encoding.UTF8.GetBytes(Alerts[i]), "alerts.json", i + 1, out var o));

            Assert.Equal(Encoding.UTF8.GetString(CanonicalJson.Serialize(builder.Build(o!))), Encoding.UTF8.GetString(builder.Serialize(o!)));
        }
    }

    [Property(MaxTest = 2000)]
    public void Serialize_RandomAlert_EqualsTheCanonicalFormOfTheTree(int seed)
    {
        var random = new Random(seed);
        var o = RandomObservation(random);
        var builder = new StixRecordBuilder(Pick(random, "edge-1", "s", "sensor.with-dots_9"));

        byte[] expected = CanonicalJson.Serialize(builder.Build(o));
        byte[] actual = builder.Serialize(o);

        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(actual));
        Assert.Equal(expected, actual);
    }

    [Property(MaxTest = 3000)]
    public void Serialize_AnyScoreOrContribution_WritesTheNumberAsTheCanonicaliser(NormalFloat score, double contribution)
    {
        // Every double the direct path formats itself must come out as ECMAScript's Number.prototype.toString.
        var o = Base() with
        {
            Score = score.Get,
            Explanation = double.IsFinite(contribution) ? [new ObservedContribution("F", contribution, null, -contribution)] : [],
        };
        var builder = new StixRecordBuilder("edge-1");

        Assert.Equal(CanonicalJson.Serialize(builder.Build(o)), builder.Serialize(o));
    }

    [Theory]
    [InlineData("lone surrogate")]
    [InlineData("integer beyond 2^53")]
    [InlineData("NaN score")]
    public void Serialize_WhatTheCanonicaliserRefuses_IsRefusedTheSameWay(string what)
    {
        var o = what switch
        {
            "lone surrogate" => Base() with { Signature = "DoS\ud800" },
            "integer beyond 2^53" => Base() with { Count = (1L << 53) + 1 },
            _ => Base() with { Score = double.NaN },
        };
        var builder = new StixRecordBuilder("edge-1");

        var fromTree = Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Serialize(builder.Build(o)));
        var direct = Assert.Throws<CanonicalJsonException>(() => builder.Serialize(o));
        Assert.Equal(fromTree.Message.Split(':')[^1], direct.Message.Split(':')[^1]);
    }

    private static ThreatObservation Base() => new()
    {
        Timestamp = new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero),
        FlowId = 42,
        SourceIp = "192.168.10.5",
        DestinationIp = "10.0.0.1",
        SourcePort = 51000,
        DestinationPort = 80,
        Protocol = "TCP",
        Signature = "DoS",
        Category = "DoS",
        Severity = 1,
        Score = 0.97,
        FirstSeen = "2017-07-05T10:00:00",
        LastSeen = "2017-07-05T10:00:01",
    };

    private static ThreatObservation RandomObservation(Random r)
    {
        string[] ips = ["192.168.10.5", "10.0.0.1", "::1", "fe80::1", "2001:0db8:0000:0000:0000:0000:0000:0001", "not-an-ip", "", "255.255.255.255", "0.0.0.0", "::ffff:1.2.3.4"];
        string? Ip() => r.Next(5) == 0 ? null : ips[r.Next(ips.Length)];
        string? Opt(Func<string> make) => r.Next(3) == 0 ? null : make();
        string src = ips[r.Next(ips.Length)];
        return new ThreatObservation
        {
            Timestamp = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks((long)(r.NextDouble() * TimeSpan.FromDays(3000).Ticks)),
            FlowId = r.Next(4) switch { 0 => 0, 1 => (1L << 51) - 1, 2 => -r.NextInt64(1L << 53), _ => r.NextInt64(1L << 53) },
            SourceIp = r.Next(6) == 0 ? src : Ip(),
            DestinationIp = r.Next(6) == 0 ? src : Ip(),
            SourcePort = r.Next(3) == 0 ? null : r.Next(-1, 65536),
            DestinationPort = r.Next(3) == 0 ? null : r.Next(65536),
            Protocol = Pick(r, null, "TCP", "udp", "ICMP", "IPv6-ICMP", "SCTP", "6", "Gre"),
            Signature = Text(r),
            Category = Text(r),
            Severity = r.Next(-2, 5),
            Score = RandomDouble(r),
            Explanation = [.. Enumerable.Range(0, r.Next(6)).Select(_ => Contribution(r))],
            Count = r.Next(3) == 0 ? r.NextInt64(1L << 53) : r.Next(1, 1000),
            FirstSeen = Time(r),
            LastSeen = Time(r),
            Stream = Opt(() => Text(r)),
            Line = r.Next(3) == 0 ? null : r.NextInt64(1L << 40),
            FlowStart = Opt(() => Text(r)),
            SourceFlowId = Opt(() => Text(r)),
            ModelSha256 = Opt(() => Convert.ToHexStringLower(BitConverter.GetBytes(r.NextInt64()))),
        };
    }

    private static ObservedContribution Contribution(Random r) => r.Next(4) switch
    {
        0 => new ObservedContribution(Text(r), null, Pick(r, "NaN", "Infinity", "-Infinity"), RandomDouble(r)),
        1 => new ObservedContribution(Text(r), null, null, RandomDouble(r)),
        _ => new ObservedContribution(Text(r), RandomDouble(r), null, RandomDouble(r)),
    };

    private static double RandomDouble(Random r) => r.Next(8) switch
    {
        0 => 0.0,
        1 => -0.0,
        2 => r.NextDouble(),
        3 => -r.NextDouble() * Math.Pow(10, r.Next(-30, 30)),
        4 => Math.Round(r.NextDouble() * 1000, r.Next(0, 4)),
        5 => r.Next() * Math.Pow(10, r.Next(10, 25)),
        6 => BitConverter.Int64BitsToDouble(r.NextInt64()) is var d && double.IsFinite(d) ? d : 1.5,
        _ => r.NextDouble() * Math.Pow(10, r.Next(-8, -4)),
    };

    private static string Time(Random r) => r.Next(6) switch
    {
        0 => "2017-07-05T10:00:00",
        1 => "2017-07-05T10:00:00.123456+0000",
        2 => "2017-07-05T" + r.Next(24).ToString("D2", CultureInfo.InvariantCulture) + ":00:00Z",
        3 => "2017-07-05T12:00:00+02:00",
        4 => "garbage",
        _ => "",
    };

    private static string Text(Random r)
    {
        string[] parts = ["DoS", "Web Attack \u2013 Brute Force", "\"quoted\"", "back\\slash", "tab\there", "nl\n", "\u0001\u001f\u007f", "\u00e9\u00e8", "\ud83d\ude00", "<script>&'", "", "PortScan", "\u2028\u2029", "\b\f\r"];
        var text = new StringBuilder();
        for (int i = r.Next(1, 4); i > 0; i--)
        {
            text.Append(parts[r.Next(parts.Length)]);
        }

        return text.ToString();
    }

    private static T Pick<T>(Random r, params T[] options) => options[r.Next(options.Length)];
}
