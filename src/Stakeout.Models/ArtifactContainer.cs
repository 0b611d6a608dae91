using System.Security.Cryptography;
using System.Text;

namespace Stakeout.Models;

/// <summary>A named, length-prefixed, hashed byte section of an artifact.</summary>
/// <param name="Name">Section name (lower-case letters, digits and '-').</param>
/// <param name="Content">The bytes.</param>
public sealed record ArtifactSection(string Name, byte[] Content);

/// <summary>A verified signature found on an artifact.</summary>
/// <param name="Algorithm">"ed25519".</param>
/// <param name="PublicKey">The signer's raw public key.</param>
/// <param name="KeyId">Short fingerprint of the public key (first 16 hex digits of its SHA-256).</param>
public sealed record ArtifactSignature(string Algorithm, byte[] PublicKey, string KeyId);

/// <summary>
/// The artifact container, format versions 1 and 2 (docs/model-format.md; 2 adds the optional anomaly and profile
/// sections). Text framing, so `head` shows the manifest:
/// <code>
/// STAKEOUT-ARTIFACT 1
/// section NAME LENGTH SHA256HEX
/// (LENGTH bytes)
/// ...more sections...
/// digest SHA256HEX            (over every byte above)
/// signature ed25519 PUBKEY_B64 SIG_B64   (optional: over every byte above, digest line included)
/// </code>
/// Every byte is covered: the digest covers all before it, the signature (verified whenever present, against the key it
/// names) covers the digest line, and nothing may follow. One flipped bit anywhere is refused.
/// </summary>
public static class ArtifactContainer
{
    /// <summary>The container format this Stakeout writes.</summary>
    public const int CurrentVersion = 2;

    private const string Magic = "STAKEOUT-ARTIFACT ";
    private static readonly int[] ReadableVersions = [1, 2];

    /// <summary>Writes sections, the digest and, with <paramref name="signer"/>, a signature.</summary>
    public static byte[] Write(IReadOnlyList<ArtifactSection> sections, ModelSigningKey? signer = null)
    {
        ArgumentNullException.ThrowIfNull(sections);
        using var ms = new MemoryStream();
        WriteAscii(ms, $"{Magic}{CurrentVersion}\n");
        foreach (var s in sections)
        {
            if (!IsValidName(s.Name))
            {
                throw new ArgumentException($"Section name '{s.Name}' must be lower-case letters, digits or '-'.", nameof(sections));
            }

            WriteAscii(ms, $"section {s.Name} {s.Content.Length} {Convert.ToHexStringLower(SHA256.HashData(s.Content))}\n");
            ms.Write(s.Content);
            WriteAscii(ms, "\n");
        }

        WriteAscii(ms, $"digest {Convert.ToHexStringLower(SHA256.HashData(ms.GetBuffer().AsSpan(0, (int)ms.Length)))}\n");
        if (signer is not null)
        {
            byte[] signature = signer.Sign(ms.GetBuffer().AsSpan(0, (int)ms.Length));
            WriteAscii(ms, $"signature ed25519 {Convert.ToBase64String(signer.PublicKey)} {Convert.ToBase64String(signature)}\n");
        }

        return ms.ToArray();
    }

    /// <summary>
    /// Reads and verifies an artifact. Throws <see cref="ArtifactException"/> saying which problem and why; a present
    /// signature is always verified. When <paramref name="trustedKeys"/> are given, a signature by one of them is required.
    /// </summary>
    public static (IReadOnlyList<ArtifactSection> Sections, string Sha256, ArtifactSignature? Signature, int Version) Read(
        ReadOnlySpan<byte> bytes, string source, bool requireSigned = false, IReadOnlyCollection<byte[]>? trustedKeys = null)
    {
        int pos = 0;
        var magic = Encoding.ASCII.GetBytes(Magic).AsSpan();
        int shared = Math.Min(bytes.Length, magic.Length);
        if (bytes.Length == 0 || !bytes[..shared].SequenceEqual(magic[..shared]))
        {
            // Checked before looking for a line end, so any other file (even one without a newline) is named as such.
            throw new ArtifactException(source, ArtifactProblem.NotAnArtifact, $"it does not start with '{Magic.Trim()}'.");
        }

        string first = ReadLine(bytes, ref pos, source, "the first line");
        if (!first.StartsWith(Magic, StringComparison.Ordinal))
        {
            throw new ArtifactException(source, ArtifactProblem.NotAnArtifact, $"it does not start with '{Magic.Trim()}'.");
        }

        if (!int.TryParse(first.AsSpan(Magic.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int version))
        {
            throw new ArtifactException(source, ArtifactProblem.Malformed, $"the version in '{Shorten(first)}' is not a number.");
        }

        if (!ReadableVersions.Contains(version))
        {
            string hint = version > CurrentVersion ? " It was written by a newer Stakeout; upgrade to read it." : string.Empty;
            throw new ArtifactException(source, ArtifactProblem.UnknownVersion, $"format version {version}; this Stakeout reads versions {string.Join(", ", ReadableVersions)}.{hint}");
        }

        var sections = new List<ArtifactSection>();
        string line;
        while (true)
        {
            line = ReadLine(bytes, ref pos, source, "a section or the digest");
            if (!line.StartsWith("section ", StringComparison.Ordinal))
            {
                break;
            }

            string[] parts = line.Split(' ');
            if (parts.Length != 4 || !IsValidName(parts[1]) || !int.TryParse(parts[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int length) || parts[3].Length != 64)
            {
                throw new ArtifactException(source, ArtifactProblem.Malformed, $"bad section header '{Shorten(line)}'.");
            }

            if (bytes.Length - pos < length + 1)
            {
                throw new ArtifactException(source, ArtifactProblem.Truncated, $"section '{parts[1]}' should hold {length} bytes; the file ends after {bytes.Length - pos}.");
            }

            byte[] content = bytes.Slice(pos, length).ToArray();
            pos += length;
            if (bytes[pos] != (byte)'\n')
            {
                throw new ArtifactException(source, ArtifactProblem.Tampered, $"section '{parts[1]}' is not followed by a line end where its length says it ends.");
            }

            pos++;
            string actual = Convert.ToHexStringLower(SHA256.HashData(content));
            if (!string.Equals(actual, parts[3], StringComparison.Ordinal))
            {
                throw new ArtifactException(source, ArtifactProblem.Tampered, $"section '{parts[1]}' has SHA-256 {actual}, but the artifact records {parts[3]}.");
            }

            if (sections.Any(s => s.Name == parts[1]))
            {
                throw new ArtifactException(source, ArtifactProblem.Malformed, $"section '{parts[1]}' appears twice.");
            }

            sections.Add(new ArtifactSection(parts[1], content));
        }

        int digestStart = pos - Encoding.ASCII.GetByteCount(line) - 1;
        if (!line.StartsWith("digest ", StringComparison.Ordinal) || line.Length != 7 + 64)
        {
            throw new ArtifactException(source, ArtifactProblem.Malformed, $"expected 'digest <sha256>' after the sections, found '{Shorten(line)}'.");
        }

        string digest = Convert.ToHexStringLower(SHA256.HashData(bytes[..digestStart]));
        if (!string.Equals(digest, line[7..], StringComparison.Ordinal))
        {
            throw new ArtifactException(source, ArtifactProblem.Tampered, $"the artifact's SHA-256 is {digest}, but its digest line records {line[7..]}.");
        }

        ArtifactSignature? signature = null;
        if (pos < bytes.Length)
        {
            if (bytes[pos..].IndexOf((byte)'\n') < 0)
            {
                // A signature line cut short is truncation; any other unterminated tail was added to the file.
                bool partialSignature = bytes[pos..].StartsWith("signature "u8) || "signature "u8.StartsWith(bytes[pos..]);
                throw new ArtifactException(source, partialSignature ? ArtifactProblem.Truncated : ArtifactProblem.Tampered, partialSignature
                    ? "the signature line is cut short."
                    : $"{bytes.Length - pos} unexpected bytes after the digest.");
            }

            int signedLength = pos;
            string sigLine = ReadLine(bytes, ref pos, source, "the signature");
            signature = VerifySignature(sigLine, bytes[..signedLength], source, trustedKeys);
            if (pos != bytes.Length)
            {
                throw new ArtifactException(source, ArtifactProblem.Tampered, $"{bytes.Length - pos} unexpected bytes after the signature.");
            }
        }

        if (signature is null && (requireSigned || trustedKeys is { Count: > 0 }))
        {
            // Naming trusted keys means "only models these keys signed": an unsigned file does not qualify.
            throw new ArtifactException(source, ArtifactProblem.SignatureMissing, requireSigned
                ? "a signed artifact is required (--require-signed) and this one has no signature."
                : "trusted keys were given (--trusted-key) and this artifact has no signature.");
        }

        return (sections, digest, signature, version);
    }

    private static ArtifactSignature VerifySignature(string line, ReadOnlySpan<byte> signed, string source, IReadOnlyCollection<byte[]>? trustedKeys)
    {
        string[] parts = line.Split(' ');
        if (parts.Length != 4 || parts[0] != "signature")
        {
            throw new ArtifactException(source, ArtifactProblem.Tampered, $"unexpected content after the digest: '{Shorten(line)}'.");
        }

        if (parts[1] != "ed25519")
        {
            throw new ArtifactException(source, ArtifactProblem.BadSignature, $"unknown signature algorithm '{Shorten(parts[1])}'.");
        }

        byte[] publicKey;
        byte[] sig;
        try
        {
            publicKey = Convert.FromBase64String(parts[2]);
            sig = Convert.FromBase64String(parts[3]);
        }
        catch (FormatException)
        {
            throw new ArtifactException(source, ArtifactProblem.BadSignature, "the signature line is not valid base64.");
        }

        // Base64 has spare bits in its last character: without this check a flipped spare bit would decode to the same
        // key and signature, and an altered file would verify. Only the one canonical spelling is accepted.
        if (Convert.ToBase64String(publicKey) != parts[2] || Convert.ToBase64String(sig) != parts[3])
        {
            throw new ArtifactException(source, ArtifactProblem.Tampered, "the signature line is not in canonical base64 (altered after signing).");
        }

        if (!ModelSigningKey.Verify(publicKey, signed, sig))
        {
            throw new ArtifactException(source, ArtifactProblem.BadSignature, $"the Ed25519 signature by key {ModelSigningKey.KeyIdOf(publicKey)} does not verify.");
        }

        if (trustedKeys is { Count: > 0 } && !trustedKeys.Any(k => k.AsSpan().SequenceEqual(publicKey)))
        {
            throw new ArtifactException(source, ArtifactProblem.BadSignature, $"signed by key {ModelSigningKey.KeyIdOf(publicKey)}, which is not among the trusted keys.");
        }

        return new ArtifactSignature("ed25519", publicKey, ModelSigningKey.KeyIdOf(publicKey));
    }

    private static string ReadLine(ReadOnlySpan<byte> bytes, ref int pos, string source, string what)
    {
        int nl = bytes[pos..].IndexOf((byte)'\n');
        if (nl < 0)
        {
            throw new ArtifactException(source, pos == 0 && bytes.Length == 0 ? ArtifactProblem.NotAnArtifact : ArtifactProblem.Truncated, $"the file ends before {what}.");
        }

        if (nl > 4096)
        {
            throw new ArtifactException(source, pos == 0 ? ArtifactProblem.NotAnArtifact : ArtifactProblem.Malformed, $"a line of {nl} bytes where {what} should be.");
        }

        var raw = bytes.Slice(pos, nl);
        pos += nl + 1;
        foreach (byte b in raw)
        {
            if (b < 0x20 || b > 0x7E)
            {
                throw new ArtifactException(source, pos == nl + 1 ? ArtifactProblem.NotAnArtifact : ArtifactProblem.Tampered, $"a non-printable byte (0x{b:X2}) where {what} should be.");
            }
        }

        return Encoding.ASCII.GetString(raw);
    }

    private static bool IsValidName(string name) =>
        name.Length is > 0 and <= 64 && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    private static void WriteAscii(Stream s, string text) => s.Write(Encoding.ASCII.GetBytes(text));

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
