using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Checkpoints;

/// <summary>The blocks of one run of records: the records themselves, and the signed index of their leaf hashes.</summary>
/// <param name="First">Index of the first record in the log.</param>
/// <param name="Count">Records in the block.</param>
/// <param name="Records">Raw block: the records' canonical JSON, one a line.</param>
/// <param name="Leaves">Raw block: the records' RFC 9162 leaf hashes, 32 bytes each, in order.</param>
public sealed record BundleRef(long First, int Count, Cid Records, Cid Leaves);

/// <summary>
/// A signed tree head in the transparency-dev checkpoint form (origin, size, base64 root, then extension lines) and
/// Stakeout's links: the previous checkpoint, the bundles of records added since it, and the compact range of the tree,
/// so a verifier with one checkpoint CID and the public key can walk and check the whole log.
/// </summary>
public sealed record Checkpoint
{
    /// <summary>The log's unique name: <c>stakeout.ledger/v1/SENSOR/KEYID</c>.</summary>
    public required string Origin { get; init; }

    /// <summary>Records in the log.</summary>
    public required long Size { get; init; }

    /// <summary>RFC 9162 root of the first <see cref="Size"/> records.</summary>
    public required byte[] Root { get; init; }

    /// <summary>The checkpoint before this one (null for the first).</summary>
    public Cid? Previous { get; init; }

    /// <summary>Size of the previous checkpoint (0 for the first).</summary>
    public long PreviousSize { get; init; }

    /// <summary>The records added since the previous checkpoint, in order, covering [PreviousSize, Size).</summary>
    public IReadOnlyList<BundleRef> Bundles { get; init; } = [];

    /// <summary>The compact range of the tree (perfect subtree roots, largest first).</summary>
    public IReadOnlyList<byte[]> Range { get; init; } = [];

    /// <summary>When the sensor signed it (the sensor's clock: informative, not trusted).</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>The origin line for <paramref name="sensor"/> and its key.</summary>
    public static string OriginFor(string sensor, ReadOnlySpan<byte> publicKey) => $"stakeout.ledger/v1/{sensor}/{Ed25519.KeyId(publicKey)}";

    /// <summary>True when <paramref name="sensor"/> is a usable sensor id: 1-64 letters, digits, '.', '_' or '-'.</summary>
    public static bool IsValidSensorId(string? sensor) =>
        !string.IsNullOrEmpty(sensor) && sensor.Length <= 64 && sensor.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}

/// <summary>A checkpoint block that cannot be read; says which line and why.</summary>
public sealed class CheckpointFormatException(string message) : Exception(message);

/// <summary>
/// The checkpoint's bytes: a signed note (C2SP signed-note): the body lines, an empty line, and one signature line
/// <c>— NAME BASE64(keyhash[4] || ed25519 signature[64])</c>, where the key hash is the first four bytes of
/// SHA-256(NAME || "\n" || 0x01 || public key). The signature covers the body, so every link in it is signed.
/// </summary>
public static class CheckpointNote
{
    private const string Dash = "\u2014 ";

    /// <summary>The signed note for <paramref name="checkpoint"/>.</summary>
    public static byte[] Sign(Checkpoint checkpoint, ICheckpointSigner signer)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(signer);
        byte[] body = Body(checkpoint);
        byte[] signature = signer.Sign(body);
        byte[] keyHash = KeyHash(checkpoint.Origin, signer.PublicKey);
        string line = Dash + checkpoint.Origin + " " + Convert.ToBase64String([.. keyHash, .. signature]) + "\n";
        return [.. body, (byte)'\n', .. Encoding.UTF8.GetBytes(line)];
    }

    /// <summary>The body lines that the signature covers.</summary>
    public static byte[] Body(Checkpoint c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var text = new StringBuilder(256 + (c.Bundles.Count * 140));
        text.Append(c.Origin).Append('\n');
        text.Append(c.Size.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append(Convert.ToBase64String(c.Root)).Append('\n');
        text.Append("stakeout-time ").Append(c.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)).Append('\n');
        text.Append("stakeout-prev ").Append(c.Previous?.ToString() ?? "-").Append(' ').Append(c.PreviousSize.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var b in c.Bundles)
        {
            text.Append(CultureInfo.InvariantCulture, $"stakeout-bundle {b.First} {b.Count} {b.Records} {b.Leaves}\n");
        }

        text.Append("stakeout-range");
        foreach (byte[] h in c.Range)
        {
            text.Append(' ').Append(Convert.ToBase64String(h));
        }

        text.Append('\n');
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>The four-byte key hash that names <paramref name="publicKey"/> under <paramref name="name"/> in a signature line.</summary>
    public static byte[] KeyHash(string name, ReadOnlySpan<byte> publicKey)
    {
        byte[] input = [.. Encoding.UTF8.GetBytes(name), (byte)'\n', 0x01, .. publicKey];
        return SHA256.HashData(input)[..4];
    }

    /// <summary>A parsed note: the checkpoint, the signed body bytes, and the signature lines' key hashes and signatures.</summary>
    public sealed record Parsed(Checkpoint Checkpoint, byte[] Body, IReadOnlyList<(string Name, byte[] KeyHash, byte[] Signature)> Signatures);

    /// <summary>Parses a checkpoint block.</summary>
    /// <exception cref="CheckpointFormatException">It is not a Stakeout checkpoint note; the message names the line.</exception>
    public static Parsed Parse(ReadOnlySpan<byte> note)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(note);
        }
        catch (DecoderFallbackException)
        {
            throw new CheckpointFormatException("the note is not UTF-8");
        }

        int split = text.IndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0)
        {
            throw new CheckpointFormatException("no empty line between the body and the signatures");
        }

        string body = text[..(split + 1)];
        string[] lines = body[..^1].Split('\n');
        if (lines.Length < 6)
        {
            throw new CheckpointFormatException($"the body has {lines.Length} lines; a checkpoint has at least origin, size, root, time, prev and range");
        }

        string origin = lines[0];
        if (!origin.StartsWith("stakeout.ledger/v1/", StringComparison.Ordinal))
        {
            throw new CheckpointFormatException($"line 1: origin '{origin}' is not a Stakeout ledger v1 origin");
        }

        if (!long.TryParse(lines[1], NumberStyles.None, CultureInfo.InvariantCulture, out long size)
            || lines[1] != size.ToString(CultureInfo.InvariantCulture))
        {
            throw new CheckpointFormatException($"line 2: size '{lines[1]}' is not a decimal number");
        }

        byte[] root = Base64Hash(lines[2], "line 3: root");
        string timeText = Field(lines[3], "stakeout-time", 4);
        if (!DateTimeOffset.TryParse(timeText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            throw new CheckpointFormatException($"line 4: time '{timeText}' is not a timestamp");
        }

        string[] prev = Field(lines[4], "stakeout-prev", 5).Split(' ');
        if (prev.Length != 2 || !long.TryParse(prev[1], NumberStyles.None, CultureInfo.InvariantCulture, out long previousSize))
        {
            throw new CheckpointFormatException("line 5: expected 'stakeout-prev CID|- SIZE'");
        }

        Cid? previous = null;
        if (prev[0] != "-")
        {
            previous = Cid.TryParse(prev[0], out var p, out string? error) ? p : throw new CheckpointFormatException($"line 5: previous checkpoint: {error}");
        }

        var bundles = new List<BundleRef>();
        int i = 5;
        for (; i < lines.Length - 1; i++)
        {
            string[] f = Field(lines[i], "stakeout-bundle", i + 1).Split(' ');
            if (f.Length != 4 || !long.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out long first)
                || !int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count)
                || !Cid.TryParse(f[2], out var records, out _) || !Cid.TryParse(f[3], out var leaves, out _))
            {
                throw new CheckpointFormatException($"line {i + 1}: expected 'stakeout-bundle FIRST COUNT RECORDS-CID LEAVES-CID'");
            }

            bundles.Add(new BundleRef(first, count, records, leaves));
        }

        string rangeLine = lines[i];
        if (!rangeLine.StartsWith("stakeout-range", StringComparison.Ordinal))
        {
            throw new CheckpointFormatException($"line {i + 1}: expected 'stakeout-range ...'");
        }

        var range = rangeLine.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(h => Base64Hash(h, $"line {i + 1}: range hash")).ToList();
        var signatures = new List<(string, byte[], byte[])>();
        foreach (string line in text[(split + 2)..].Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!line.StartsWith(Dash, StringComparison.Ordinal))
            {
                throw new CheckpointFormatException($"signature line '{line}' does not start with an em dash and a space");
            }

            int space = line.LastIndexOf(' ');
            if (space < Dash.Length)
            {
                // Found by fuzzing: '— blob' (no name) made the slice below negative.
                throw new CheckpointFormatException($"signature line '{line}' is not '— NAME SIGNATURE'");
            }

            string name = line[Dash.Length..space];
            byte[] blob;
            try
            {
                blob = Convert.FromBase64String(line[(space + 1)..]);
            }
            catch (FormatException)
            {
                throw new CheckpointFormatException($"the signature of '{name}' is not base64");
            }

            if (blob.Length != 68)
            {
                throw new CheckpointFormatException($"the signature of '{name}' has {blob.Length} bytes, not 4 + 64 (Ed25519)");
            }

            signatures.Add((name, blob[..4], blob[4..]));
        }

        if (signatures.Count == 0)
        {
            throw new CheckpointFormatException("the note has no signature line");
        }

        var checkpoint = new Checkpoint
        {
            Origin = origin,
            Size = size,
            Root = root,
            Time = time,
            Previous = previous,
            PreviousSize = previousSize,
            Bundles = bundles,
            Range = range,
        };
        return new Parsed(checkpoint, Encoding.UTF8.GetBytes(body), signatures);
    }

    /// <summary>True when a signature line of <paramref name="parsed"/>, named by the origin, verifies under <paramref name="publicKey"/>.</summary>
    public static bool VerifySignature(Parsed parsed, ReadOnlySpan<byte> publicKey)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        byte[] keyHash = KeyHash(parsed.Checkpoint.Origin, publicKey);
        foreach (var (name, hash, signature) in parsed.Signatures)
        {
            if (name == parsed.Checkpoint.Origin && hash.AsSpan().SequenceEqual(keyHash) && Ed25519.Verify(publicKey, parsed.Body, signature))
            {
                return true;
            }
        }

        return false;
    }

    private static string Field(string line, string name, int number) =>
        line.StartsWith(name + " ", StringComparison.Ordinal)
            ? line[(name.Length + 1)..]
            : throw new CheckpointFormatException($"line {number}: expected '{name} ...', found '{line}'");

    private static byte[] Base64Hash(string text, string what)
    {
        byte[] hash;
        try
        {
            hash = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw new CheckpointFormatException($"{what} '{text}' is not base64");
        }

        return hash.Length == 32 ? hash : throw new CheckpointFormatException($"{what} has {hash.Length} bytes, not 32");
    }
}
