using System.Security.Cryptography;
using NSec.Cryptography;

namespace Stakeout.Ledger.Crypto;

/// <summary>
/// X25519 key pairs of the people who may read sealed records. Files hold the raw 32-byte key in base64 after a type
/// word, like the Ed25519 key files: the private one is created 0600 and refused when group or others can read it.
/// </summary>
public static class RecipientKeys
{
    private const string PrivatePrefix = "stakeout-x25519-private ";
    private const string PublicPrefix = "stakeout-x25519-public ";
    private static readonly KeyAgreementAlgorithm Algorithm = KeyAgreementAlgorithm.X25519;

    /// <summary>A loaded private key and its public key.</summary>
    public sealed class PrivateKey : IDisposable
    {
        internal PrivateKey(Key key)
        {
            Key = key;
            PublicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        }

        internal Key Key { get; }

        /// <summary>The raw 32-byte public key.</summary>
        public byte[] PublicKey { get; }

        /// <inheritdoc />
        public void Dispose() => Key.Dispose();
    }

    /// <summary>The first 16 hex digits of the public key's SHA-256.</summary>
    public static string KeyId(ReadOnlySpan<byte> publicKey) => Convert.ToHexStringLower(SHA256.HashData(publicKey))[..16];

    /// <summary>Creates a key pair: <paramref name="privatePath"/> (0600, never overwritten) and <paramref name="publicPath"/>; returns the key id.</summary>
    public static string Create(string privatePath, string publicPath)
    {
        using var key = Key.Create(Algorithm, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(privatePath, options))
        {
            stream.Write(System.Text.Encoding.ASCII.GetBytes(PrivatePrefix + Convert.ToBase64String(key.Export(KeyBlobFormat.RawPrivateKey)) + "\n"));
        }

        byte[] publicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        File.WriteAllText(publicPath, PublicPrefix + Convert.ToBase64String(publicKey) + "\n");
        return KeyId(publicKey);
    }

    /// <summary>Loads a private key file; refuses one that group or others may read.</summary>
    /// <exception cref="InvalidDataException">Not such a key file, or readable by others.</exception>
    public static PrivateKey LoadPrivate(string path)
    {
        KeyFilePermissions.EnsurePrivate(path);
        byte[] raw = Read(path, PrivatePrefix);
        return Key.TryImport(Algorithm, raw, KeyBlobFormat.RawPrivateKey, out var key) && key is not null
            ? new PrivateKey(key)
            : throw new InvalidDataException($"{path}: not a valid X25519 private key.");
    }

    /// <summary>Loads a public key file.</summary>
    public static byte[] LoadPublic(string path) => Read(path, PublicPrefix);

    private static byte[] Read(string path, string prefix)
    {
        string text = File.ReadAllText(path).Trim();
        if (!text.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: not a Stakeout X25519 key (expected a line starting '{prefix.Trim()}').");
        }

        byte[] raw;
        try
        {
            raw = Convert.FromBase64String(text[prefix.Length..]);
        }
        catch (FormatException)
        {
            throw new InvalidDataException($"{path}: the key is not valid base64.");
        }

        return raw.Length == 32 ? raw : throw new InvalidDataException($"{path}: an X25519 key is 32 bytes; this one is {raw.Length}.");
    }
}

/// <summary>Private key files must be readable by their owner only.</summary>
public static class KeyFilePermissions
{
    /// <summary>Throws when <paramref name="path"/> is readable or writable by group or others (Unix).</summary>
    /// <exception cref="InvalidDataException">The file's mode lets others read it; the message gives the mode and the fix.</exception>
    public static void EnsurePrivate(string path)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(path))
        {
            return;
        }

        var mode = File.GetUnixFileMode(path);
        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        if ((mode & others) != 0)
        {
            throw new InvalidDataException($"{path}: a private key must be readable by its owner only, but its mode is {Convert.ToString((int)mode, 8).PadLeft(4, '0')}; run chmod 600 '{path}'.");
        }
    }
}
