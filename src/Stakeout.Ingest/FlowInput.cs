using System.IO.Compression;

namespace Stakeout.Ingest;

/// <summary>How an input is stored.</summary>
public enum InputKind
{
    /// <summary>A plain CSV file.</summary>
    Csv,
    /// <summary>A gzip-compressed CSV (detected by content, not only by the .gz name).</summary>
    Gzip,
    /// <summary>A CSV entry inside a zip archive, read without unpacking to disk.</summary>
    ZipEntry,
}

/// <summary>One flow CSV to read: a file, a gzip file, or an entry of a zip archive.</summary>
/// <param name="DisplayName">How reports name it: the path as given, or "archive.zip!entry.csv".</param>
/// <param name="Path">The file on disk.</param>
/// <param name="Kind">Storage kind.</param>
/// <param name="EntryName">The zip entry's full name, for <see cref="InputKind.ZipEntry"/>.</param>
/// <param name="Length">Bytes on disk (uncompressed size for a zip entry), for progress.</param>
public sealed record FlowInput(string DisplayName, string Path, InputKind Kind, string? EntryName, long Length)
{
    /// <summary>Opens the input for reading (decompressing .gz and zip entries), for callers that need the raw lines.</summary>
    public Stream OpenRead() => Open(out _);

    /// <summary>Opens the decompressed CSV bytes. <paramref name="position"/> reports how far into <see cref="Length"/> the read is.</summary>
    internal Stream Open(out Func<long> position)
    {
        var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
        switch (Kind)
        {
            case InputKind.Gzip:
                position = () => file.Position;
                return new CheckedGzipStream(file, DisplayName);
            case InputKind.ZipEntry:
                ZipArchive archive;
                Stream entryStream;
                try
                {
                    archive = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: false);
                    var entry = archive.GetEntry(EntryName!) ?? throw new FlowDataException(DisplayName, 0, null, "the zip entry has disappeared");
                    entryStream = entry.Open();
                }
                catch (InvalidDataException ex)
                {
                    file.Dispose();
                    throw new FlowDataException(DisplayName, 0, null, $"the zip archive is corrupt: {ex.Message}", ex);
                }

                var counting = new CountingStream(entryStream, archive, DisplayName);
                position = () => counting.BytesRead;
                return counting;
            default:
                position = () => file.Position;
                return file;
        }
    }

    /// <summary>Counts bytes read and disposes an owner (the zip archive) with the stream; corrupt entry data names the entry.</summary>
    private sealed class CountingStream(Stream inner, IDisposable owner, string name) : ForwardReadStream
    {
        public long BytesRead { get; private set; }

        public override long Position
        {
            get => BytesRead;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n;
            try
            {
                n = inner.Read(buffer, offset, count);
            }
            catch (InvalidDataException ex)
            {
                throw new FlowDataException(name, 0, null, $"the zip entry's data is corrupt: {ex.Message}", ex);
            }

            BytesRead += n;
            return n;
        }


        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                owner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>
/// Decompresses gzip and checks the trailer (CRC-32 and length) at the end: .NET's <see cref="GZipStream"/> ends quietly
/// where a file was cut, so half a download would otherwise read as a whole file. Failures name the file.
/// </summary>
internal sealed class CheckedGzipStream : ForwardReadStream
{
    private readonly GZipStream _gzip;
    private readonly string _name;
    private readonly System.IO.Hashing.Crc32 _crc = new();
    private readonly uint _expectedCrc;
    private readonly uint _expectedLength;
    private long _length;
    private bool _checked;

    public CheckedGzipStream(FileStream file, string name)
    {
        _name = name;
        if (file.Length < 18)
        {
            file.Dispose();
            throw new FlowDataException(name, 0, null, $"the gzip file is truncated: {file.Length} bytes is shorter than a gzip header and trailer.");
        }

        Span<byte> trailer = stackalloc byte[8];
        RandomAccess.Read(file.SafeFileHandle, trailer, file.Length - 8);
        _expectedCrc = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        _expectedLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
        _gzip = new GZipStream(file, CompressionMode.Decompress, leaveOpen: false);
    }

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        int n;
        try
        {
            n = _gzip.Read(buffer, offset, count);
        }
        catch (InvalidDataException ex)
        {
            throw new FlowDataException(_name, 0, null, $"the gzip data is corrupt: {ex.Message}", ex);
        }

        if (n > 0)
        {
            _crc.Append(buffer.AsSpan(offset, n));
            _length += n;
        }
        else if (!_checked && count > 0)
        {
            _checked = true;
            uint crc = _crc.GetCurrentHashAsUInt32();
            if (crc != _expectedCrc || (uint)_length != _expectedLength)
            {
                throw new FlowDataException(
                    _name, 0, null,
                    $"the gzip data is truncated or corrupt: {_length} bytes decompressed do not match the CRC-32 and length at the end of the file " +
                    "(a multi-member gzip, such as bgzip output, cannot be checked: decompress it first).");
            }
        }

        return n;
    }


    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _gzip.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>Turns the paths a user gives (files, directories, archives, any separator) into inputs.</summary>
internal static class FlowInputs
{
    private static readonly string[] Extensions = [".csv", ".csv.gz", ".gz", ".zip"];

    /// <summary>
    /// Expands <paramref name="paths"/>: a directory is searched recursively for *.csv, *.csv.gz and *.zip (sorted by path);
    /// a zip contributes each of its .csv entries. A path written with backslashes is tried with slashes when it does not
    /// exist as written (a Windows path on Linux). Throws <see cref="FlowDataException"/> for a path that does not exist.
    /// </summary>
    public static List<FlowInput> Expand(IEnumerable<string> paths, Action<string, long> quirk)
    {
        var inputs = new List<FlowInput>();
        foreach (string given in paths)
        {
            string path = Resolve(given, quirk);
            if (Directory.Exists(path))
            {
                var files = Directory.EnumerateFiles(path, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = FileAttributes.None })
                    .Where(f => Extensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
                    .Order(StringComparer.Ordinal)
                    .ToList();
                if (files.Count == 0)
                {
                    throw new FlowDataException(given, 0, null, "the directory holds no flow files (*.csv, *.csv.gz, *.zip).");
                }

                foreach (string f in files)
                {
                    AddFile(f, inputs, quirk);
                }
            }
            else
            {
                AddFile(path, inputs, quirk);
            }
        }

        return inputs;
    }

    private static string Resolve(string given, Action<string, long> quirk)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(given);
        if (File.Exists(given) || Directory.Exists(given))
        {
            return given;
        }

        if (given.Contains('\\', StringComparison.Ordinal))
        {
            string slashed = given.Replace('\\', '/');
            if (File.Exists(slashed) || Directory.Exists(slashed))
            {
                quirk("backslash_path", 1);
                return slashed;
            }
        }

        throw new FlowDataException(given, 0, null, "no such file or directory.");
    }

    private static void AddFile(string path, List<FlowInput> inputs, Action<string, long> quirk)
    {
        var info = new FileInfo(path);
        Span<byte> magic = stackalloc byte[4];
        int n;
        using (var s = info.OpenRead())
        {
            n = s.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        }

        if (n >= 2 && magic[0] == 0x1F && magic[1] == 0x8B)
        {
            quirk("gzip_compressed", 1);
            inputs.Add(new FlowInput(path, path, InputKind.Gzip, null, info.Length));
        }
        else if (n == 4 && magic[0] == (byte)'P' && magic[1] == (byte)'K' && magic[2] == 3 && magic[3] == 4)
        {
            int before = inputs.Count;
            try
            {
                using var archive = ZipFile.OpenRead(path);
                foreach (var entry in archive.Entries)
                {
                    if (entry.FullName.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
                    {
                        inputs.Add(new FlowInput($"{path}!{entry.FullName}", path, InputKind.ZipEntry, entry.FullName, entry.Length));
                        quirk("zip_entry", 1);
                    }
                }
            }
            catch (InvalidDataException ex)
            {
                throw new FlowDataException(path, 0, null, $"not a readable zip archive: {ex.Message}", ex);
            }

            if (inputs.Count == before)
            {
                throw new FlowDataException(path, 0, null, "the zip archive holds no .csv entry.");
            }
        }
        else
        {
            inputs.Add(new FlowInput(path, path, InputKind.Csv, null, info.Length));
        }
    }
}

/// <summary>A read-only, forward-only stream: the members every such wrapper would otherwise repeat.</summary>
internal abstract class ForwardReadStream : Stream
{
    public sealed override bool CanRead => true;

    public sealed override bool CanSeek => false;

    public sealed override bool CanWrite => false;

    public sealed override long Length => throw new NotSupportedException();

    public sealed override void Flush()
    {
    }

    public sealed override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public sealed override void SetLength(long value) => throw new NotSupportedException();

    public sealed override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
