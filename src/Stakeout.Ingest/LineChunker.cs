using System.Buffers;

namespace Stakeout.Ingest;

/// <summary>A run of whole lines in a pooled buffer, or a marker for one line too long to buffer.</summary>
internal readonly record struct Chunk(byte[] Buffer, int Length, long FirstLine, long LineCount, bool LongLine)
{
    public ReadOnlySpan<byte> Data => Buffer.AsSpan(0, Length);

    public void Return()
    {
        if (Buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(Buffer);
        }
    }
}

/// <summary>
/// Cuts a stream into chunks that end on a line boundary, counting lines as it goes so every row keeps its line number.
/// A line longer than a whole chunk is skipped and reported as one <see cref="Chunk.LongLine"/>; nothing is buffered
/// beyond one chunk.
/// </summary>
internal sealed class LineChunker
{
    private readonly Stream _stream;
    private readonly int _chunkBytes;
    private readonly byte[] _carry;
    private int _carryLength;
    private bool _eof;
    private bool _skipping;
    private long _nextLine = 1;

    public LineChunker(Stream stream, int chunkBytes)
    {
        _stream = stream;
        _chunkBytes = chunkBytes;
        _carry = new byte[chunkBytes];
    }

    public bool TryNext(out Chunk chunk)
    {
        while (true)
        {
            if (_eof && _carryLength == 0)
            {
                chunk = default;
                return false;
            }

            byte[] buffer = ArrayPool<byte>.Shared.Rent(_chunkBytes);
            Array.Copy(_carry, buffer, _carryLength);
            int filled = _carryLength;
            _carryLength = 0;
            while (filled < _chunkBytes && !_eof)
            {
                int n = _stream.Read(buffer, filled, _chunkBytes - filled);
                if (n == 0)
                {
                    _eof = true;
                }

                filled += n;
            }

            if (_skipping)
            {
                int nl = buffer.AsSpan(0, filled).IndexOf((byte)'\n');
                if (nl >= 0)
                {
                    _skipping = false;
                    _carryLength = filled - nl - 1;
                    Array.Copy(buffer, nl + 1, _carry, 0, _carryLength);
                }

                ArrayPool<byte>.Shared.Return(buffer);
                continue;
            }

            if (filled == 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                chunk = default;
                return false;
            }

            int last = buffer.AsSpan(0, filled).LastIndexOf((byte)'\n');
            int length;
            if (last >= 0)
            {
                length = last + 1;
                _carryLength = filled - length;
                Array.Copy(buffer, length, _carry, 0, _carryLength);
            }
            else if (_eof)
            {
                length = filled;
            }
            else
            {
                ArrayPool<byte>.Shared.Return(buffer);
                chunk = new Chunk([], 0, _nextLine, 1, LongLine: true);
                _nextLine++;
                _skipping = true;
                return true;
            }

            var data = buffer.AsSpan(0, length);
            long lines = data.Count((byte)'\n') + (data[^1] == (byte)'\n' ? 0 : 1);
            chunk = new Chunk(buffer, length, _nextLine, lines, LongLine: false);
            _nextLine += lines;
            return true;
        }
    }
}
