using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using Stakeout.Core;

namespace Stakeout.Cluster;

/// <summary>One flow batch as it travels between a sensor and a worker.</summary>
/// <param name="Sensor">The sensor that read the flows (also the subject's last token).</param>
/// <param name="BatchId">Unique id of the batch (<c>SENSOR.RUN.SEQ</c>): the publish dedup id and the stem of its alert ids.</param>
/// <param name="Stream">Where the sensor read them (file, connection, capture).</param>
/// <param name="Flows">The flows: features, lines in the stream, identity and Flow ID.</param>
public sealed record FlowMessage(string Sensor, string BatchId, string Stream, FlowBatch Flows);

/// <summary>
/// The binary wire format of a flow batch (version 1, little-endian): magic <c>SKFB</c>, version (u16), sensor, batch
/// id and stream (u16 length + UTF-8), row count (i32), identity flag (u8); then the features of every row
/// (<see cref="FeatureSchema.Count"/> float32 each, canonical order, non-finite values kept), the line of every row
/// (i64), and when the flag is set each row's identity: source and destination address (family byte 0/4/6 then 4 or 16
/// bytes), ports (i32), protocol (i16), start (DateTime.ToBinary, i64) and Flow ID (i32 byte length, -1 for none, then
/// UTF-8). A 256-flow batch with identity is about 100 KB. Decoding checks every length before reading and names the
/// field that is wrong.
/// </summary>
public static class FlowBatchCodec
{
    private const uint Magic = 0x4246_4B53; // "SKFB" read little-endian
    private const ushort Version = 1;
    internal const int MaxRows = 65_536;

    /// <summary>Encodes rows <paramref name="start"/> to <paramref name="start"/>+<paramref name="count"/> of <paramref name="flows"/>.</summary>
    public static byte[] Encode(string sensor, string batchId, string stream, FlowBatch flows, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(flows);
        Guard.NotBlank(sensor);
        Guard.NotBlank(batchId);
        ArgumentNullException.ThrowIfNull(stream);
        if (start < 0 || count < 0 || start + count > flows.Count || count > MaxRows)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"rows [{start}, {start + count}) are not within the batch's {flows.Count} rows (at most {MaxRows}).");
        }

        bool identity = flows.Identities is not null;
        int size = 4 + 2 + Str(sensor) + Str(batchId) + Str(stream) + 4 + 1 + (count * FeatureSchema.Count * 4) + (count * 8);
        if (identity)
        {
            for (int r = start; r < start + count; r++)
            {
                size += 17 + 4 + 17 + 4 + 2 + 8 + 4 + Encoding.UTF8.GetByteCount(flows.FlowIds![r] ?? "");
            }
        }

        var buffer = new byte[size];
        var w = new Writer(buffer);
        w.U32(Magic);
        w.U16(Version);
        w.String16(sensor);
        w.String16(batchId);
        w.String16(stream);
        w.I32(count);
        w.U8(identity ? (byte)1 : (byte)0);
        w.Bytes(MemoryMarshal.AsBytes(flows.Features.AsSpan(start * FeatureSchema.Count, count * FeatureSchema.Count)));
        for (int r = start; r < start + count; r++)
        {
            w.I64(flows.Lines[r]);
        }

        if (identity)
        {
            for (int r = start; r < start + count; r++)
            {
                var id = flows.Identities![r];
                w.Address(id.SourceIp);
                w.I32(id.SourcePort);
                w.Address(id.DestinationIp);
                w.I32(id.DestinationPort);
                w.I16(id.Protocol);
                w.I64(id.Timestamp.ToBinary());
                w.String32(flows.FlowIds![r]);
            }
        }

        if (w.Position != size)
        {
            throw new InvalidOperationException($"flow batch encoding wrote {w.Position} bytes, expected {size}.");
        }

        return buffer;
    }

    /// <summary>Decodes a message; throws <see cref="InvalidDataException"/> naming the field that is malformed.</summary>
    public static FlowMessage Decode(ReadOnlySpan<byte> data)
    {
        var r = new Reader(data);
        if (r.U32("magic") != Magic)
        {
            throw new InvalidDataException("not a Stakeout flow batch: the magic bytes are not 'SKFB'.");
        }

        ushort version = r.U16("version");
        if (version != Version)
        {
            throw new InvalidDataException($"flow batch format version {version} is not supported (this build reads version {Version}).");
        }

        string sensor = r.String16("sensor");
        string batchId = r.String16("batch id");
        string stream = r.String16("stream");
        if (string.IsNullOrWhiteSpace(sensor) || string.IsNullOrWhiteSpace(batchId))
        {
            // Found by fuzzing: alert ids are BATCH_ID.ROW and subjects carry the sensor, so neither may be blank.
            throw new InvalidDataException($"flow batch: the {(string.IsNullOrWhiteSpace(sensor) ? "sensor" : "batch id")} is blank.");
        }

        int count = r.I32("row count");
        if (count is < 0 or > MaxRows)
        {
            throw new InvalidDataException($"flow batch {batchId}: row count {count} is out of range [0, {MaxRows}].");
        }

        byte flag = r.U8("identity flag");
        if (flag > 1)
        {
            throw new InvalidDataException($"flow batch {batchId}: identity flag {flag} is neither 0 nor 1.");
        }

        // Every row takes at least its features and its line number: a count the bytes cannot hold is refused before the
        // rows are allocated, so a short hostile message cannot make the decoder allocate for MaxRows rows.
        long least = (long)count * ((FeatureSchema.Count * 4) + 8);
        if (r.Remaining < least)
        {
            throw new InvalidDataException($"flow batch {batchId}: row count {count} needs at least {least} bytes of rows, the message has {r.Remaining}.");
        }

        var flows = new FlowBatch(Math.Max(1, count), withIdentity: flag == 1) { Count = count };
        r.Bytes(MemoryMarshal.AsBytes(flows.Features.AsSpan(0, count * FeatureSchema.Count)), "features");
        for (int i = 0; i < count; i++)
        {
            flows.Lines[i] = r.I64("line");
            flows.LabelIds[i] = -1;
        }

        if (flag == 1)
        {
            for (int i = 0; i < count; i++)
            {
                var src = r.Address("source address");
                int sport = r.I32("source port");
                var dst = r.Address("destination address");
                int dport = r.I32("destination port");
                short proto = r.I16("protocol");
                long time = r.I64("timestamp");
                flows.Identities![i] = new FlowIdentity(src, sport, dst, dport, proto, Timestamp(time, batchId));
                flows.FlowIds![i] = r.String32("flow id");
            }
        }

        if (!r.AtEnd)
        {
            throw new InvalidDataException($"flow batch {batchId}: {r.Remaining} byte(s) after the last row.");
        }

        return new FlowMessage(sensor, batchId, stream, flows);
    }

    private static int Str(string s) => 2 + Encoding.UTF8.GetByteCount(s);

    private static DateTime Timestamp(long binary, string batchId)
    {
        if (binary < 0)
        {
            // The Local kind bit: the encoder never writes it (flow times are UTC or unspecified), and a local time
            // would be converted on decoding, so the worker would not see the time the sensor sent.
            throw new InvalidDataException($"flow batch {batchId}: timestamp {binary} is a local time, not UTC or unspecified.");
        }

        try
        {
            return DateTime.FromBinary(binary);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"flow batch {batchId}: timestamp {binary} is not a valid date.", ex);
        }
    }

    private ref struct Writer(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;

        public int Position { get; private set; }

        public void U8(byte v) => _buffer[Position++] = v;

        public void U16(ushort v)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(_buffer[Position..], v);
            Position += 2;
        }

        public void I16(short v)
        {
            BinaryPrimitives.WriteInt16LittleEndian(_buffer[Position..], v);
            Position += 2;
        }

        public void U32(uint v)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer[Position..], v);
            Position += 4;
        }

        public void I32(int v)
        {
            BinaryPrimitives.WriteInt32LittleEndian(_buffer[Position..], v);
            Position += 4;
        }

        public void I64(long v)
        {
            BinaryPrimitives.WriteInt64LittleEndian(_buffer[Position..], v);
            Position += 8;
        }

        public void Bytes(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_buffer[Position..]);
            Position += bytes.Length;
        }

        public void String16(string s)
        {
            int n = Encoding.UTF8.GetByteCount(s);
            if (n > ushort.MaxValue)
            {
                throw new ArgumentException($"'{s[..32]}...' is longer than {ushort.MaxValue} bytes.", nameof(s));
            }

            U16((ushort)n);
            Position += Encoding.UTF8.GetBytes(s, _buffer[Position..]);
        }

        public void String32(string? s)
        {
            if (s is null)
            {
                I32(-1);
                return;
            }

            I32(Encoding.UTF8.GetByteCount(s));
            Position += Encoding.UTF8.GetBytes(s, _buffer[Position..]);
        }

        public void Address(IpAddressValue address)
        {
            var ip = address.ToIPAddress();
            var slot = _buffer.Slice(Position, 17);
            slot.Clear();
            if (ip is not null)
            {
                slot[0] = address.IsIPv4 ? (byte)4 : (byte)6;
                if (!ip.TryWriteBytes(slot[1..], out _))
                {
                    throw new InvalidOperationException($"address {ip} does not fit 16 bytes.");
                }
            }

            Position += 17;
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public readonly bool AtEnd => _position == _data.Length;

        public readonly int Remaining => _data.Length - _position;

        public byte U8(string field) => Take(1, field)[0];

        public ushort U16(string field) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, field));

        public short I16(string field) => BinaryPrimitives.ReadInt16LittleEndian(Take(2, field));

        public uint U32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, field));

        public int I32(string field) => BinaryPrimitives.ReadInt32LittleEndian(Take(4, field));

        public long I64(string field) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, field));

        public void Bytes(Span<byte> destination, string field) => Take(destination.Length, field).CopyTo(destination);

        public string String16(string field)
        {
            int n = U16(field + " length");
            return Utf8(Take(n, field), field);
        }

        public string? String32(string field)
        {
            int n = I32(field + " length");
            if (n == -1)
            {
                return null;
            }

            if (n < 0)
            {
                throw new InvalidDataException($"flow batch: {field} length {n} is negative.");
            }

            return Utf8(Take(n, field), field);
        }

        public IpAddressValue Address(string field)
        {
            var slot = Take(17, field);
            int length = slot[0] switch
            {
                0 => 0,
                4 => 4,
                6 => 16,
                var f => throw new InvalidDataException($"flow batch: {field} has address family {f}, not 0, 4 or 6."),
            };
            if (slot[(1 + length)..].ContainsAnyExcept((byte)0))
            {
                // Only one encoding per address is accepted, so what a worker scores is what the sensor sent.
                throw new InvalidDataException($"flow batch: {field} (family {slot[0]}) has non-zero padding.");
            }

            return length == 0 ? IpAddressValue.None : IpAddressValue.From(new IPAddress(slot.Slice(1, length)));
        }

        private static string Utf8(ReadOnlySpan<byte> bytes, string field)
        {
            try
            {
                return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            }
            catch (DecoderFallbackException ex)
            {
                throw new InvalidDataException($"flow batch: {field} is not valid UTF-8.", ex);
            }
        }

        private ReadOnlySpan<byte> Take(int n, string field)
        {
            if (n < 0 || n > _data.Length - _position)
            {
                throw new InvalidDataException($"flow batch is truncated: {field} needs {n} byte(s) at offset {_position}, {_data.Length - _position} left.");
            }

            var slice = _data.Slice(_position, n);
            _position += n;
            return slice;
        }
    }
}
