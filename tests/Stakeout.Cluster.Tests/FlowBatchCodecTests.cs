using System.Net;
using Stakeout.Core;

namespace Stakeout.Cluster.Tests;

public sealed class FlowBatchCodecTests
{
    private static FlowBatch Sample(bool identity)
    {
        var batch = new FlowBatch(3, identity) { Count = 3 };
        for (int r = 0; r < 3; r++)
        {
            for (int f = 0; f < FeatureSchema.Count; f++)
            {
                batch.Features[(r * FeatureSchema.Count) + f] = (r * 1000) + f + 0.25f;
            }

            batch.Lines[r] = 10 + r;
        }

        batch.Features[5] = float.PositiveInfinity;
        batch.Features[6] = float.NaN;
        if (identity)
        {
            batch.Identities![0] = new FlowIdentity(IpAddressValue.From(IPAddress.Parse("172.16.0.1")), 49650, IpAddressValue.From(IPAddress.Parse("192.168.10.50")), 80, 6, new DateTime(2017, 7, 7, 15, 56, 0));
            batch.Identities[1] = new FlowIdentity(IpAddressValue.From(IPAddress.Parse("fe80::1")), 1, IpAddressValue.From(IPAddress.Parse("2001:db8::2")), 443, 17, DateTime.MinValue);
            batch.Identities[2] = FlowIdentity.Empty;
            batch.FlowIds![0] = "172.16.0.1-192.168.10.50-49650-80-6";
            batch.FlowIds[1] = "é-unicode";
            batch.FlowIds[2] = null;
        }

        return batch;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Decode_EncodedBatch_RoundTripsEveryField(bool identity)
    {
        var batch = Sample(identity);

        var message = FlowBatchCodec.Decode(FlowBatchCodec.Encode("dmz-1", "dmz-1.abc.7", "tcp://127.0.0.1:5140#1", batch, 0, 3));

        Assert.Equal("dmz-1", message.Sensor);
        Assert.Equal("dmz-1.abc.7", message.BatchId);
        Assert.Equal("tcp://127.0.0.1:5140#1", message.Stream);
        Assert.Equal(3, message.Flows.Count);
        Assert.Equal(batch.Features.AsSpan(0, 3 * FeatureSchema.Count).ToArray(), message.Flows.Features.AsSpan(0, 3 * FeatureSchema.Count).ToArray());
        Assert.True(float.IsNaN(message.Flows.Features[6]));
        Assert.Equal([10L, 11L, 12L], message.Flows.Lines.Take(3));
        Assert.Equal(identity, message.Flows.Identities is not null);
        if (identity)
        {
            Assert.Equal(batch.Identities!, message.Flows.Identities!);
            Assert.Equal(batch.FlowIds!, message.Flows.FlowIds!);
        }
    }

    [Fact]
    public void Encode_RowRange_TakesOnlyThoseRows()
    {
        var batch = Sample(identity: true);

        var message = FlowBatchCodec.Decode(FlowBatchCodec.Encode("s", "s.1.1", "f.csv", batch, 1, 2));

        Assert.Equal(2, message.Flows.Count);
        Assert.Equal([11L, 12L], message.Flows.Lines.Take(2));
        Assert.Equal(batch.Identities![1], message.Flows.Identities![0]);
    }

    [Fact]
    public void Decode_EveryTruncation_FailsWithInvalidDataNamingTheField()
    {
        byte[] data = FlowBatchCodec.Encode("s", "s.1.1", "f.csv", Sample(identity: true), 0, 3);

        for (int n = 0; n < data.Length; n++)
        {
            var ex = Assert.Throws<InvalidDataException>(() => FlowBatchCodec.Decode(data.AsSpan(0, n)));
            Assert.Contains(n < 4 ? "magic" : "flow batch", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Decode_SeededCorruption_NeverThrowsAnythingButInvalidDataAndWhatIsAcceptedReEncodesIdentically()
    {
        byte[] original = FlowBatchCodec.Encode("s", "s.1.1", "f.csv", Sample(identity: true), 0, 3);
        var random = new Random(20);
        int decoded = 0;
        for (int i = 0; i < 20000; i++)
        {
            byte[] data = (byte[])original.Clone();
            data[random.Next(data.Length)] = (byte)random.Next(256);
            try
            {
                var m = FlowBatchCodec.Decode(data);
                decoded++;

                // What is accepted is canonical: it encodes back to the very bytes (no padding, kind bit or
                // replacement character silently changed on the way through).
                Assert.Equal(data, FlowBatchCodec.Encode(m.Sensor, m.BatchId, m.Stream, m.Flows, 0, m.Flows.Count));
            }
            catch (InvalidDataException)
            {
                // A clear error is the expected outcome for a header or length byte.
            }
        }

        // Most single-byte changes land in feature values, which decode (they are just other numbers).
        Assert.InRange(decoded, 1, 20000);
    }

    [Fact]
    public void Decode_OtherVersion_SaysWhichVersionIsRead()
    {
        byte[] data = FlowBatchCodec.Encode("s", "s.1.1", "f.csv", Sample(identity: false), 0, 3);
        data[4] = 9;

        var ex = Assert.Throws<InvalidDataException>(() => FlowBatchCodec.Decode(data));

        Assert.Contains("version 9", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_TrailingBytes_Refused()
    {
        byte[] data = [.. FlowBatchCodec.Encode("s", "s.1.1", "f.csv", Sample(identity: false), 0, 3), 0];

        var ex = Assert.Throws<InvalidDataException>(() => FlowBatchCodec.Decode(data));

        Assert.Contains("after the last row", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_RowCountTheBytesCannotHold_RefusedBeforeAllocatingTheRows()
    {
        // Found by fuzzing: a 988-byte message claiming MaxRows rows made the decoder allocate 5.4 MB before failing.
        byte[] data = FlowBatchCodec.Encode("s", "s.1.1", "f.csv", Sample(identity: true), 0, 1);
        int countAt = 4 + 2 + (2 + 1) + (2 + 5) + (2 + 5);
        Assert.Equal(1, BitConverter.ToInt32(data, countAt));
        BitConverter.TryWriteBytes(data.AsSpan(countAt, 4), FlowBatchCodec.MaxRows);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<InvalidDataException>(() => FlowBatchCodec.Decode(data));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains($"row count {FlowBatchCodec.MaxRows} needs at least", ex.Message, StringComparison.Ordinal);
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated decoding a {data.Length}-byte message");
    }

    [Fact]
    public void Decode_NonCanonicalAddressOrLocalTime_Refused()
    {
        // Found by fuzzing: these decoded, but to other bytes than were sent (padding dropped, time converted).
        var batch = Sample(identity: true);
        byte[] data = FlowBatchCodec.Encode("s", "s.1.1", "f.csv", batch, 0, 1);
        int rows = 4 + 2 + (2 + 1) + (2 + 5) + (2 + 5) + 4 + 1 + (FeatureSchema.Count * 4) + 8;
        Assert.Equal(4, data[rows]); // the source address's family: IPv4

        byte[] padded = (byte[])data.Clone();
        padded[rows + 1 + 4 + 3] = 0x85;
        Assert.Contains("non-zero padding", Assert.Throws<InvalidDataException>(() => FlowBatchCodec.Decode(padded)).Message, StringComparison.Ordinal);

        int time = rows + 17 + 4 + 17 + 4 + 2;
        Assert.Equal(batch.Identities![0].Timestamp.ToBinary(), BitConverter.ToInt64(data, time));
        byte[] local = (byte[])data.Clone();
        BitConverter.TryWriteBytes(local.AsSpan(time, 8), DateTime.SpecifyKind(batch.Identities[0].Timestamp, DateTimeKind.Local).ToBinary());
        Assert.Contains("is a local time", Assert.Throws<InvalidDataException>(() => FlowBatchCodec.Decode(local)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_StringLengthNearInt32Max_RefusedAsTruncatedNotAnOverflow()
    {
        // Found by fuzzing: offset + length wrapped past int.MaxValue and slipped by the bounds check.
        var batch = Sample(identity: true);
        byte[] data = FlowBatchCodec.Encode("s", "s.1.1", "f.csv", batch, 0, 1);
        int flowId = 4 + 2 + (2 + 1) + (2 + 5) + (2 + 5) + 4 + 1 + (FeatureSchema.Count * 4) + 8 + 17 + 4 + 17 + 4 + 2 + 8;
        Assert.Equal(batch.FlowIds![0]!.Length, BitConverter.ToInt32(data, flowId));
        BitConverter.TryWriteBytes(data.AsSpan(flowId, 4), int.MaxValue - 8);

        var ex = Assert.Throws<InvalidDataException>(() => FlowBatchCodec.Decode(data));

        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_BlankBatchId_Refused()
    {
        // Found by fuzzing: a batch id of one space decoded, and alert ids would have been " .ROW".
        byte[] data = FlowBatchCodec.Encode("s", "s.1.1", "f.csv", Sample(identity: false), 0, 1);
        int id = 4 + 2 + (2 + 1) + 2;
        data.AsSpan(id, 5).Fill((byte)' ');

        Assert.Contains("batch id is blank", Assert.Throws<InvalidDataException>(() => FlowBatchCodec.Decode(data)).Message, StringComparison.Ordinal);
    }
}
