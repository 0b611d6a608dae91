using System.Security.Cryptography;
using NSec.Cryptography;

namespace Stakeout.Models;

/// <summary>An Ed25519 key pair that signs artifacts. Key files hold the raw 32-byte keys in base64, one per file.</summary>
public sealed class ModelSigningKey : IDisposable
{
    private static readonly SignatureAlgorithm Algorithm = SignatureAlgorithm.Ed25519;
    private readonly Key _key;

    private ModelSigningKey(Key key) => _key = key;

    /// <summary>The raw 32-byte public key.</summary>
    public byte[] PublicKey => _key.PublicKey.Export(KeyBlobFormat.RawPublicKey);

    /// <summary>Short fingerprint of the public key.</summary>
    public string KeyId => KeyIdOf(PublicKey);

    /// <summary>Creates a new random key pair.</summary>
    public static ModelSigningKey Create() =>
        new(Key.Create(Algorithm, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));

    /// <summary>Loads a private key file written by <see cref="SavePrivateKey"/>.</summary>
    /// <exception cref="InvalidDataException">Not a key file, or group or others may read or write it (Unix).</exception>
    public static ModelSigningKey LoadPrivateKey(string path)
    {
        if (!OperatingSystem.IsWindows() && File.Exists(path)
            && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
        {
            throw new InvalidDataException($"{path}: a private key must be readable by its owner only, but its mode is {Convert.ToString((int)File.GetUnixFileMode(path), 8).PadLeft(4, '0')}; run chmod 600 '{path}'.");
        }

        string text = File.ReadAllText(path).Trim();
        const string prefix = "stakeout-ed25519-private ";
        if (!text.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: not a Stakeout private key (expected a line starting '{prefix.Trim()}').");
        }

        byte[] raw;
        try
        {
            raw = Convert.FromBase64String(text[prefix.Length..]);
        }
        catch (FormatException)
        {
            throw new InvalidDataException($"{path}: the private key is not valid base64.");
        }

        if (!Key.TryImport(Algorithm, raw, KeyBlobFormat.RawPrivateKey, out var key, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }) || key is null)
        {
            throw new InvalidDataException($"{path}: not a valid Ed25519 private key.");
        }

        return new ModelSigningKey(key);
    }

    /// <summary>Reads a public key file written by <see cref="SavePublicKey"/>.</summary>
    public static byte[] LoadPublicKey(string path)
    {
        string text = File.ReadAllText(path).Trim();
        const string prefix = "stakeout-ed25519-public ";
        if (!text.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: not a Stakeout public key (expected a line starting '{prefix.Trim()}').");
        }

        byte[] raw = Convert.FromBase64String(text[prefix.Length..]);
        if (raw.Length != 32)
        {
            throw new InvalidDataException($"{path}: an Ed25519 public key is 32 bytes; this one is {raw.Length}.");
        }

        return raw;
    }

    /// <summary>
    /// Writes the private key to a new file, created with owner-only permissions (0600) on Unix so the key is never
    /// readable by others, not even briefly. Refuses to overwrite an existing file (<see cref="IOException"/>).
    /// </summary>
    public void SavePrivateKey(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        stream.Write(System.Text.Encoding.ASCII.GetBytes($"stakeout-ed25519-private {Convert.ToBase64String(_key.Export(KeyBlobFormat.RawPrivateKey))}\n"));
    }

    /// <summary>Writes the public key.</summary>
    public void SavePublicKey(string path) =>
        File.WriteAllText(path, $"stakeout-ed25519-public {Convert.ToBase64String(PublicKey)}\n");

    /// <summary>Signs <paramref name="data"/>.</summary>
    public byte[] Sign(ReadOnlySpan<byte> data) => Algorithm.Sign(_key, data);

    /// <summary>Verifies an Ed25519 signature; false for a malformed key or signature.</summary>
    public static bool Verify(byte[] publicKey, ReadOnlySpan<byte> data, byte[] signature)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        ArgumentNullException.ThrowIfNull(signature);
        if (!NSec.Cryptography.PublicKey.TryImport(Algorithm, publicKey, KeyBlobFormat.RawPublicKey, out var key) || key is null)
        {
            return false;
        }

        return Algorithm.Verify(key, data, signature);
    }

    /// <summary>The first 16 hex digits of the public key's SHA-256.</summary>
    public static string KeyIdOf(byte[] publicKey) => Convert.ToHexStringLower(SHA256.HashData(publicKey))[..16];

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();
}
