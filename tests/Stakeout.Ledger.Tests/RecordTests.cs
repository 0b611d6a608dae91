using System.Text;
using System.Text.Json.Nodes;
using Stakeout.Ledger.Crypto;
using Stakeout.Ledger.Records;

namespace Stakeout.Ledger.Tests;

public sealed class RecordTests
{
    // TestData/alerts.json: eight real alerts written by `stakeout detect` (demo model, CIC-IDS2017 TrafficLabelling attacks).
    private static readonly string[] Alerts = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "TestData", "alerts.json"));

    private static ThreatObservation Read(string line, long number = 1)
    {
        Assert.True(EveObservationReader.TryRead(Encoding.UTF8.GetBytes(line), "alerts.json", number, out var o));
        return o!;
    }

    [Fact]
    public void TryRead_RealDetectAlert_KeepsEveryField()
    {
        var o = Read(Alerts[0]);

        Assert.Equal("172.16.0.1", o.SourceIp);
        Assert.Equal(49650, o.SourcePort);
        Assert.Equal("192.168.10.50", o.DestinationIp);
        Assert.Equal(80, o.DestinationPort);
        Assert.Equal("TCP", o.Protocol);
        Assert.Equal("DoS", o.Signature);
        Assert.Equal(0.999424, o.Score);
        Assert.Equal(5, o.Explanation.Count);
        Assert.Equal("Bwd Packet Length Std", o.Explanation[0].Feature);
        Assert.Equal("78f9625897d0c592fc50426e3b78cfb4c44d3048fdf55f0c59624e7fa78c7635", o.ModelSha256);
        Assert.Equal(new DateTimeOffset(2026, 12, 3, 8, 53, 41, 687, TimeSpan.Zero).AddTicks(860), o.Timestamp);
    }

    [Theory]
    [InlineData("""{"event_type":"alert","alert":{},"timestamp":"x","flow_id":1}""", "alerts.json:7: field 'timestamp' ('x') is not a timestamp")]
    [InlineData("""{"event_type":"alert","alert":{},"timestamp":"2026-12-03T08:53:41.687086+0000","flow_id":"1"}""", "alerts.json:7: field 'flow_id' is missing or not an integer")]
    [InlineData("""{"event_type":"alert"}""", "alerts.json:7: field 'alert' is missing or not an object")]
    [InlineData("""not json""", "alerts.json:7: not a JSON object")]
    public void TryRead_MalformedAlert_NamesFileLineAndField(string line, string message)
    {
        var e = Assert.Throws<EveFormatException>(() => EveObservationReader.TryRead(Encoding.UTF8.GetBytes(line), "alerts.json", 7, out _));

        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0xC3, 0x28 })] // an invalid two-byte sequence
    [InlineData(new byte[] { 0xFF })]
    public void TryRead_InvalidUtf8InAString_IsAFormatErrorNotACrash(byte[] bad)
    {
        // Found by fuzzing: System.Text.Json accepts the bytes while reading and throws InvalidOperationException on GetString.
        byte[] inType = [.. "{\"event_type\":\"al"u8, .. bad, .. "ert\"}"u8];
        byte[] inField = [.. Encoding.UTF8.GetBytes(Alerts[0].Replace("\"signature\":\"", "\"signature\":\"\u0001", StringComparison.Ordinal)).Select(b => b)];
        int at = Array.IndexOf(inField, (byte)1);
        Assert.True(at > 0);
        inField = [.. inField[..at], .. bad, .. inField[(at + 1)..]];

        foreach (var input in new[] { inType, inField })
        {
            var e = Record.Exception(() => EveObservationReader.TryRead(input, "alerts.json", 3, out _));
            Assert.True(e is EveFormatException, $"{e?.GetType().Name}: {e?.Message}");
            Assert.StartsWith("alerts.json:3: ", e!.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("\"signature\":\"", "\"signature\":\"\\ud800")] // a lone surrogate escape
    [InlineData("\"severity\":", "\"severity\":99999999999")] // beyond Int32
    public void TryRead_ValueTheReaderCannotConvert_IsAFormatError(string find, string replace)
    {
        var line = Alerts[0].Replace(find, replace, StringComparison.Ordinal);
        Assert.NotEqual(Alerts[0], line);

        var e = Record.Exception(() => EveObservationReader.TryRead(Encoding.UTF8.GetBytes(line), "alerts.json", 4, out _));

        Assert.True(e is EveFormatException, $"{e?.GetType().Name}: {e?.Message}");
        Assert.StartsWith("alerts.json:4: ", e!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryRead_ExplanationValueBeyondDouble_IsAFormatError()
    {
        // Found by fuzzing: 1e309 read as Infinity, and the canonical writer then threw building the record.
        var line = Alerts[0].Replace("\"value\":", "\"value\":1e309,\"was\":", StringComparison.Ordinal);
        Assert.NotEqual(Alerts[0], line);

        var e = Record.Exception(() => EveObservationReader.TryRead(Encoding.UTF8.GetBytes(line), "alerts.json", 6, out _));

        Assert.True(e is EveFormatException, $"{e?.GetType().Name}: {e?.Message}");
        Assert.Contains("beyond the range of a double", e!.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1407129205102322462L)] // a Suricata-style 64-bit flow id (found by fuzzing: the builder threw)
    [InlineData(-9007199254740993L)]
    public void Serialize_FlowIdBeyond2To53_IsADecimalStringInBothWriters(long flowId)
    {
        var o = Read(Alerts[0]) with { FlowId = flowId };
        var builder = new StixRecordBuilder("edge-1");

        byte[] fast = builder.Serialize(o);

        Assert.Equal(CanonicalJson.Serialize(builder.Build(o)), fast);
        Assert.Contains($"\"x_stakeout_flow_id\":\"{flowId.ToString(System.Globalization.CultureInfo.InvariantCulture)}\"", Encoding.UTF8.GetString(fast), StringComparison.Ordinal);
    }

    [Fact]
    public void TryRead_OtherEventType_IsNotAnAlert()
    {
        Assert.False(EveObservationReader.TryRead("""{"event_type":"stats","timestamp":"2026-12-03T08:53:41.687086+0000"}"""u8, "eve.json", 1, out var o));
        Assert.Null(o);
    }

    [Fact]
    public void Build_RealAlert_IsAStixBundleWithEveryRequiredProperty()
    {
        var bundle = new StixRecordBuilder("edge-1").Build(Read(Alerts[0]));
        var objects = bundle["objects"]!.AsArray().Select(o => o!.AsObject()).ToList();

        Assert.Equal("bundle", (string?)bundle["type"]);
        Assert.StartsWith("bundle--", (string?)bundle["id"], StringComparison.Ordinal);
        Assert.Equal(["identity", "attack-pattern", "ipv4-addr", "ipv4-addr", "network-traffic", "observed-data", "sighting"], objects.Select(o => (string?)o["type"]));
        foreach (var o in objects)
        {
            string type = (string)o["type"]!;
            Assert.Equal("2.1", (string?)o["spec_version"]);
            Assert.Matches($"^{type}--[0-9a-f]{{8}}-[0-9a-f]{{4}}-5[0-9a-f]{{3}}-[89ab][0-9a-f]{{3}}-[0-9a-f]{{12}}$", (string)o["id"]!);
            if (type is not ("ipv4-addr" or "network-traffic"))
            {
                Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", (string)o["created"]!);
                Assert.Equal((string?)o["created"], (string?)o["modified"]);
            }
        }

        var traffic = objects.Single(o => (string?)o["type"] == "network-traffic");
        Assert.Equal(["ipv4", "tcp"], traffic["protocols"]!.AsArray().Select(p => (string?)p));
        Assert.Equal(80, (int)traffic["dst_port"]!);
        var observed = objects.Single(o => (string?)o["type"] == "observed-data");
        Assert.Equal(1, (long)observed["number_observed"]!);
        Assert.Equal(3, observed["object_refs"]!.AsArray().Count);
        var sighting = objects[^1];
        Assert.Equal((string?)objects[1]["id"], (string?)sighting["sighting_of_ref"]);
        Assert.Equal((string?)observed["id"], (string?)sighting["observed_data_refs"]![0]);
        Assert.Equal((string?)objects[0]["id"], (string?)sighting["where_sighted_refs"]![0]);
        Assert.Equal(0.999424, (double)sighting["x_stakeout_score"]!);
        Assert.Equal("DoS", (string?)sighting["x_stakeout_class"]);
        Assert.Equal("edge-1", (string?)sighting["x_stakeout_sensor"]);
        Assert.Equal(1460730772322462L, (long)sighting["x_stakeout_flow_id"]!);
        Assert.Equal("78f9625897d0c592fc50426e3b78cfb4c44d3048fdf55f0c59624e7fa78c7635", (string?)sighting["x_stakeout_model_sha256"]);
        Assert.Equal(5, sighting["x_stakeout_explanation"]!.AsArray().Count);
        Assert.False((bool)sighting["x_stakeout_event_time_zone_known"]!);
    }

    [Fact]
    public void Serialize_SameAlertTwice_GivesTheSameCanonicalBytes()
    {
        var builder = new StixRecordBuilder("edge-1");

        byte[] a = builder.Serialize(Read(Alerts[3]));
        byte[] b = new StixRecordBuilder("edge-1").Serialize(Read(Alerts[3]));

        Assert.Equal(a, b);
        Assert.Equal(a, CanonicalJson.Canonicalize(a));
        Assert.DoesNotContain((byte)'\n', a);
        Assert.NotEqual(a, new StixRecordBuilder("edge-2").Serialize(Read(Alerts[3])));
    }

    [Fact]
    public void Build_AlertWithoutAddresses_HasASightingButNoObservedData()
    {
        var o = Read(Alerts[0]) with { SourceIp = null, DestinationIp = null };

        var objects = new StixRecordBuilder("s").Build(o)["objects"]!.AsArray();

        Assert.DoesNotContain(objects, x => (string?)x!["type"] is "observed-data" or "network-traffic" or "ipv4-addr");
        Assert.Null(objects[^1]!["observed_data_refs"]);
    }

    [Fact]
    public void Uuid5_StixObservableOfAnAddress_MatchesPythonsUuid5()
    {
        // python3: uuid.uuid5(uuid.UUID('00abedb4-aa42-466c-9c01-fed23315a9b7'), '{"value":"198.51.100.3"}')
        Assert.Equal("28bb3599-77cd-5a82-a950-b5bc3caf07c4", Uuid5.Create(Uuid5.StixObservables, """{"value":"198.51.100.3"}"""));
    }

    [Fact]
    public void Seal_ForTwoRecipients_EachOpensItAndAnOutsiderCannot()
    {
        string dir = Directory.CreateTempSubdirectory("stakeout-seal-").FullName;
        try
        {
            RecipientKeys.Create(Path.Combine(dir, "a.key"), Path.Combine(dir, "a.pub"));
            RecipientKeys.Create(Path.Combine(dir, "b.key"), Path.Combine(dir, "b.pub"));
            RecipientKeys.Create(Path.Combine(dir, "c.key"), Path.Combine(dir, "c.pub"));
            byte[] record = new StixRecordBuilder("s").Serialize(Read(Alerts[1]));

            byte[] envelope = RecordSealer.Seal(record, [RecipientKeys.LoadPublic(Path.Combine(dir, "a.pub")), RecipientKeys.LoadPublic(Path.Combine(dir, "b.pub"))]);

            Assert.True(RecordSealer.IsSealed(envelope));
            Assert.Equal(envelope, CanonicalJson.Canonicalize(envelope));
            Assert.DoesNotContain("172.16.0.1", Encoding.UTF8.GetString(envelope), StringComparison.Ordinal);
            using var a = RecipientKeys.LoadPrivate(Path.Combine(dir, "a.key"));
            using var b = RecipientKeys.LoadPrivate(Path.Combine(dir, "b.key"));
            using var c = RecipientKeys.LoadPrivate(Path.Combine(dir, "c.key"));
            Assert.Equal(record, RecordSealer.Open(envelope, a));
            Assert.Equal(record, RecordSealer.Open(envelope, b));
            Assert.Contains("not sealed to key", Assert.Throws<SealedRecordException>(() => RecordSealer.Open(envelope, c)).Message, StringComparison.Ordinal);

            var altered = JsonNode.Parse(envelope)!.AsObject();
            string ct = (string)altered["ciphertext"]!;
            altered["ciphertext"] = (ct[0] == 'A' ? "B" : "A") + ct[1..];
            Assert.Throws<SealedRecordException>(() => RecordSealer.Open(CanonicalJson.Serialize(altered), a));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void LoadPrivate_KeyFileReadableByOthers_IsRefusedWithTheFix()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        string dir = Directory.CreateTempSubdirectory("stakeout-keyperm-").FullName;
        try
        {
            string key = Path.Combine(dir, "r.key");
            RecipientKeys.Create(key, Path.Combine(dir, "r.pub"));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

            var e = Assert.Throws<InvalidDataException>(() => RecipientKeys.LoadPrivate(key));

            Assert.Contains("mode is 0640", e.Message, StringComparison.Ordinal);
            Assert.Contains("chmod 600", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
