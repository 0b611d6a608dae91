using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Stakeout.FlowMeter.Decoding;

namespace Stakeout.FlowMeter.Capture;

/// <summary>One packet as the capture file holds it. <see cref="Data"/> is valid until the next read.</summary>
public readonly ref struct CaptureRecord
{
    internal CaptureRecord(int linkType, long timestampMicros, ReadOnlySpan<byte> data, int wireLength)
    {
        LinkType = linkType;
        TimestampMicros = timestampMicros;
        Data = data;
        WireLength = wireLength;
    }

    /// <summary>The link type (DLT/LINKTYPE number) of the interface that captured the packet.</summary>
    public int LinkType { get; }

    /// <summary>Capture time in microseconds since the Unix epoch (finer resolutions are truncated, as libpcap does).</summary>
    public long TimestampMicros { get; }

    /// <summary>The captured bytes.</summary>
    public ReadOnlySpan<byte> Data { get; }

    /// <summary>The packet's length on the wire (may exceed the captured bytes when a snap length was set).</summary>
    public int WireLength { get; }
}

/// <summary>Which container a capture file uses.</summary>
public enum CaptureFormat
{
    /// <summary>Classic libpcap format.</summary>
    Pcap,
    /// <summary>pcapng.</summary>
    PcapNg,
}

/// <summary>
/// Reads pcap (microsecond and nanosecond magic, either byte order) and pcapng (SHB, IDB, EPB, SPB and the obsolete
/// packet block; per-interface link type, timestamp resolution and offset; several sections) from a stream, with no
/// dependency on libpcap. Damaged input ends the read with a counted weird instead of an exception; only a file that
/// is not a capture at all (unknown magic) throws <see cref="InvalidDataException"/>.
/// </summary>
public sealed class CaptureReader : IDisposable
{
    /// <summary>Largest record accepted; anything longer is a corrupt length (libpcap uses a similar bound).</summary>
    public const int MaxRecordBytes = 256 * 1024;

    private const uint PcapMagicMicros = 0xA1B2C3D4;
    private const uint PcapMagicNanos = 0xA1B23C4D;
    private const uint PcapNgSectionHeader = 0x0A0D0D0A;
    private const uint PcapNgByteOrderMagic = 0x1A2B3C4D;

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly WeirdCounters _weird;
    private byte[] _buffer = new byte[1 << 20];
    private int _start;
    private int _end;
    private bool _eof;
    private bool _stopped;

    // pcap state
    private bool _swapped;
    private readonly bool _nanos;
    private readonly int _pcapLinkType;

    // pcapng state
    private readonly List<Interface> _interfaces = [];
    private long _lastTimestamp;

    /// <summary>Opens <paramref name="stream"/> and reads its file header.</summary>
    /// <param name="stream">The capture bytes.</param>
    /// <param name="name">A name for messages (the file path).</param>
    /// <param name="weird">Where damaged records are counted.</param>
    /// <param name="ownsStream">Dispose the stream with the reader.</param>
    public CaptureReader(Stream stream, string name, WeirdCounters weird, bool ownsStream = true)
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        _weird = weird ?? throw new ArgumentNullException(nameof(weird));
        _ownsStream = ownsStream;
        Name = name ?? throw new ArgumentNullException(nameof(name));
        if (!Ensure(4))
        {
            throw new InvalidDataException($"{name}: too short to be a capture file ({_end - _start} bytes).");
        }

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_start));
        if (magic == PcapNgSectionHeader)
        {
            Format = CaptureFormat.PcapNg;
            return; // the section header is read as the first block
        }

        Format = CaptureFormat.Pcap;
        if (magic is PcapMagicMicros or PcapMagicNanos)
        {
            _swapped = false;
        }
        else if (BinaryPrimitives.ReverseEndianness(magic) is PcapMagicMicros or PcapMagicNanos)
        {
            _swapped = true;
            magic = BinaryPrimitives.ReverseEndianness(magic);
        }
        else
        {
            throw new InvalidDataException($"{name}: not a pcap or pcapng file (magic 0x{magic:X8}).");
        }

        _nanos = magic == PcapMagicNanos;
        if (!Ensure(24))
        {
            throw new InvalidDataException($"{name}: pcap file header is truncated ({_end - _start} of 24 bytes).");
        }

        // The upper bits of the link-type field carry FCS information in some writers; the DLT is the low 16 bits.
        _pcapLinkType = (int)(U32(_buffer.AsSpan(_start + 20)) & 0xFFFF);
        _start += 24;
    }

    /// <summary>Opens a capture file.</summary>
    public static CaptureReader Open(string path, WeirdCounters weird)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        try
        {
            return new CaptureReader(stream, path, weird);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>The file name given at open.</summary>
    public string Name { get; }

    /// <summary>pcap or pcapng.</summary>
    public CaptureFormat Format { get; }

    /// <summary>The link type of a pcap file, or of the first pcapng interface (-1 before one is seen).</summary>
    public int LinkType => Format == CaptureFormat.Pcap ? _pcapLinkType : _interfaces.Count > 0 ? _interfaces[0].LinkType : -1;

    /// <summary>Reads the next packet. False at the end of the file or after damage that prevents going on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryRead(out CaptureRecord record)
    {
        record = default;
        if (_stopped)
        {
            return false;
        }

        return Format == CaptureFormat.Pcap ? TryReadPcap(out record) : TryReadPcapNg(out record);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsStream)
        {
            _stream.Dispose();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryReadPcap(out CaptureRecord record)
    {
        record = default;
        if (!Ensure(16))
        {
            if (_end > _start)
            {
                _weird.Add(WeirdReason.TruncatedCaptureRecord);
                _weird.Records++;
            }

            _stopped = true;
            return false;
        }

        var header = _buffer.AsSpan(_start, 16);
        long seconds = U32(header);
        long fraction = U32(header[4..]);
        uint captured = U32(header[8..]);
        uint wire = U32(header[12..]);
        _weird.Records++;
        if (captured > MaxRecordBytes)
        {
            _weird.Add(WeirdReason.CaptureRecordTooLong);
            _stopped = true;
            return false;
        }

        if (!Ensure(16 + (int)captured))
        {
            _weird.Add(WeirdReason.TruncatedCaptureRecord);
            _stopped = true;
            return false;
        }

        long micros = (seconds * 1_000_000) + (_nanos ? fraction / 1000 : fraction);
        record = new CaptureRecord(_pcapLinkType, micros, _buffer.AsSpan(_start + 16, (int)captured), (int)Math.Min(wire, int.MaxValue));
        _start += 16 + (int)captured;
        return true;
    }

    private bool TryReadPcapNg(out CaptureRecord record)
    {
        record = default;
        while (true)
        {
            if (!Ensure(12))
            {
                if (_end > _start)
                {
                    _weird.Add(WeirdReason.BadPcapngBlock);
                }

                _stopped = true;
                return false;
            }

            uint rawType = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_start));
            if (rawType == PcapNgSectionHeader)
            {
                // Byte order is decided by the section header's own byte-order magic, read before its length.
                uint bom = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_start + 8));
                if (bom == PcapNgByteOrderMagic)
                {
                    _swapped = !BitConverter.IsLittleEndian;
                }
                else if (BinaryPrimitives.ReverseEndianness(bom) == PcapNgByteOrderMagic)
                {
                    _swapped = BitConverter.IsLittleEndian;
                }
                else
                {
                    _weird.Add(WeirdReason.BadPcapngBlock);
                    _stopped = true;
                    return false;
                }

                _interfaces.Clear();
            }

            uint type = U32(_buffer.AsSpan(_start));
            uint length = U32(_buffer.AsSpan(_start + 4));
            if (length < 12 || length % 4 != 0 || length > MaxRecordBytes + 64)
            {
                _weird.Add(WeirdReason.BadPcapngBlock);
                _stopped = true;
                return false;
            }

            if (!Ensure((int)length))
            {
                _weird.Add(type is 3 or 6 or 2 ? WeirdReason.TruncatedCaptureRecord : WeirdReason.BadPcapngBlock);
                if (type is 3 or 6 or 2)
                {
                    _weird.Records++;
                }

                _stopped = true;
                return false;
            }

            var block = _buffer.AsSpan(_start, (int)length);
            if (U32(block[^4..]) != length)
            {
                _weird.Add(WeirdReason.BadPcapngBlock);
                _stopped = true;
                return false;
            }

            _start += (int)length;
            var body = block[8..^4];
            switch (type)
            {
                case 1:
                    ReadInterface(body);
                    break;
                case 6:
                    if (TryEnhancedPacket(body, out record))
                    {
                        return true;
                    }

                    break;
                case 3:
                    if (TrySimplePacket(body, out record))
                    {
                        return true;
                    }

                    break;
                case 2:
                    if (TryObsoletePacket(body, out record))
                    {
                        return true;
                    }

                    break;
                default:
                    break; // SHB body, name resolution, statistics, custom blocks: nothing a flow needs
            }
        }
    }

    private void ReadInterface(ReadOnlySpan<byte> body)
    {
        if (body.Length < 8)
        {
            _weird.Add(WeirdReason.BadPcapngBlock);
            _interfaces.Add(new Interface(-1, 1_000_000, 0));
            return;
        }

        int linkType = U16(body);
        ulong unitsPerSecond = 1_000_000;
        long offsetSeconds = 0;
        var options = body[8..];
        while (options.Length >= 4)
        {
            int code = U16(options);
            int len = U16(options[2..]);
            if (code == 0 || options.Length < 4 + len)
            {
                break;
            }

            var value = options.Slice(4, len);
            if (code == 9 && len >= 1)
            {
                byte r = value[0];
                int exponent = r & 0x7F;
                unitsPerSecond = (r & 0x80) == 0
                    ? (exponent <= 19 ? Pow10(exponent) : 0)
                    : (exponent <= 63 ? 1UL << exponent : 0);
                if (unitsPerSecond == 0)
                {
                    _weird.Add(WeirdReason.BadPcapngBlock);
                    unitsPerSecond = 1_000_000;
                }
            }
            else if (code == 14 && len >= 8)
            {
                offsetSeconds = (long)U64(value);
            }

            options = options[(4 + ((len + 3) & ~3))..];
        }

        _interfaces.Add(new Interface(linkType, unitsPerSecond, offsetSeconds));
    }

    private bool TryEnhancedPacket(ReadOnlySpan<byte> body, out CaptureRecord record)
    {
        record = default;
        _weird.Records++;
        if (body.Length < 20)
        {
            _weird.Add(WeirdReason.BadPcapngBlock);
            return false;
        }

        uint iface = U32(body);
        ulong ts = ((ulong)U32(body[4..]) << 32) | U32(body[8..]);
        uint captured = U32(body[12..]);
        uint wire = U32(body[16..]);
        if (captured > body.Length - 20)
        {
            _weird.Add(WeirdReason.BadPcapngBlock);
            return false;
        }

        if (iface >= _interfaces.Count)
        {
            _weird.Add(WeirdReason.PcapngUnknownInterface);
            return false;
        }

        var info = _interfaces[(int)iface];
        long micros = ToMicros(ts, info);
        _lastTimestamp = micros;
        record = new CaptureRecord(info.LinkType, micros, body.Slice(20, (int)captured), (int)Math.Min(wire, int.MaxValue));
        return true;
    }

    private bool TryObsoletePacket(ReadOnlySpan<byte> body, out CaptureRecord record)
    {
        record = default;
        _weird.Records++;
        if (body.Length < 20)
        {
            _weird.Add(WeirdReason.BadPcapngBlock);
            return false;
        }

        int iface = U16(body);
        ulong ts = ((ulong)U32(body[4..]) << 32) | U32(body[8..]);
        uint captured = U32(body[12..]);
        uint wire = U32(body[16..]);
        if (captured > body.Length - 20 || iface >= _interfaces.Count)
        {
            _weird.Add(iface >= _interfaces.Count ? WeirdReason.PcapngUnknownInterface : WeirdReason.BadPcapngBlock);
            return false;
        }

        var info = _interfaces[iface];
        long micros = ToMicros(ts, info);
        _lastTimestamp = micros;
        record = new CaptureRecord(info.LinkType, micros, body.Slice(20, (int)captured), (int)Math.Min(wire, int.MaxValue));
        return true;
    }

    private bool TrySimplePacket(ReadOnlySpan<byte> body, out CaptureRecord record)
    {
        record = default;
        _weird.Records++;
        if (body.Length < 4 || _interfaces.Count == 0)
        {
            _weird.Add(_interfaces.Count == 0 ? WeirdReason.PcapngUnknownInterface : WeirdReason.BadPcapngBlock);
            return false;
        }

        // A simple packet block has no timestamp: it inherits the last one seen, which keeps packet time monotonic.
        uint wire = U32(body);
        int captured = (int)Math.Min(wire, (uint)(body.Length - 4));
        record = new CaptureRecord(_interfaces[0].LinkType, _lastTimestamp, body.Slice(4, captured), (int)Math.Min(wire, int.MaxValue));
        return true;
    }

    private static long ToMicros(ulong ts, Interface info)
    {
        ulong ups = info.UnitsPerSecond;
        ulong micros = ups == 1_000_000 ? ts
            : ups == 1_000_000_000 ? ts / 1000
            : ((ts / ups) * 1_000_000) + (ulong)((UInt128)(ts % ups) * 1_000_000 / ups);
        return (long)micros + (info.OffsetSeconds * 1_000_000);
    }

    private static ulong Pow10(int exponent)
    {
        ulong v = 1;
        for (int i = 0; i < exponent; i++)
        {
            v *= 10;
        }

        return v;
    }

    private uint U32(ReadOnlySpan<byte> s) => _swapped ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);

    private ushort U16(ReadOnlySpan<byte> s) => _swapped ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s);

    private ulong U64(ReadOnlySpan<byte> s) => _swapped ? BinaryPrimitives.ReadUInt64BigEndian(s) : BinaryPrimitives.ReadUInt64LittleEndian(s);

    /// <summary>Makes at least <paramref name="count"/> bytes available from <see cref="_start"/>; false at end of stream.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Ensure(int count)
    {
        if (_end - _start >= count)
        {
            return true;
        }

        if (_eof)
        {
            return false;
        }

        if (count > _buffer.Length)
        {
            var bigger = new byte[Math.Max(count, _buffer.Length * 2)];
            Buffer.BlockCopy(_buffer, _start, bigger, 0, _end - _start);
            _end -= _start;
            _start = 0;
            _buffer = bigger;
        }
        else if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        while (_end - _start < count)
        {
            int n = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (n <= 0)
            {
                _eof = true;
                return false;
            }

            _end += n;
        }

        return true;
    }

    private readonly record struct Interface(int LinkType, ulong UnitsPerSecond, long OffsetSeconds);
}
