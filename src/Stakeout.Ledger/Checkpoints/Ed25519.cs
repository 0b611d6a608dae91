using System.Security.Cryptography;
using NSec.Cryptography;

namespace Stakeout.Ledger.Checkpoints;

/// <summary>Signs checkpoints with the sensor's Ed25519 key (the CLI wraps the key file of <c>stakeout keys new</c>).</summary>
public interface ICheckpointSigner
{
    /// <summary>The raw 32-byte Ed25519 public key.</summary>
    byte[] PublicKey { get; }

    /// <summary>The 64-byte Ed25519 signature of <paramref name="message"/>.</summary>
    byte[] Sign(ReadOnlySpan<byte> message);
}

/// <summary>Ed25519 through NSec: verification, key ids, and an in-memory signer for tests and benchmarks.</summary>
public static class Ed25519
{
    private static readonly SignatureAlgorithm Algorithm = SignatureAlgorithm.Ed25519;

    /// <summary>The first 16 hex digits of the public key's SHA-256, the key id Stakeout prints everywhere.</summary>
    public static string KeyId(ReadOnlySpan<byte> publicKey) => Convert.ToHexStringLower(SHA256.HashData(publicKey))[..16];

    /// <summary>True when <paramref name="signature"/> is a valid Ed25519 signature of <paramref name="message"/>; false for malformed keys or signatures.</summary>
    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (publicKey.Length != Algorithm.PublicKeySize || signature.Length != Algorithm.SignatureSize
            || !NSec.Cryptography.PublicKey.TryImport(Algorithm, publicKey, KeyBlobFormat.RawPublicKey, out var key) || key is null)
        {
            return false;
        }

        return Algorithm.Verify(key, message, signature);
    }

    /// <summary>A signer over a key held in memory (random, or from 32 raw private-key bytes).</summary>
    public sealed class InMemorySigner : ICheckpointSigner, IDisposable
    {
        private readonly Key _key;

        /// <summary>A new random key.</summary>
        public InMemorySigner()
        {
            _key = Key.Create(Algorithm, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
            PublicKey = _key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        }

        /// <summary>The key whose 32-byte seed is <paramref name="privateKey"/>.</summary>
        public InMemorySigner(ReadOnlySpan<byte> privateKey)
        {
            _key = Key.Import(Algorithm, privateKey, KeyBlobFormat.RawPrivateKey, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
            PublicKey = _key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        }

        /// <inheritdoc />
        public byte[] PublicKey { get; }

        /// <inheritdoc />
        public byte[] Sign(ReadOnlySpan<byte> message) => Algorithm.Sign(_key, message);

        /// <inheritdoc />
        public void Dispose() => _key.Dispose();
    }
}
