using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NSec.Cryptography;
using Stakeout.Ledger.Records;

namespace Stakeout.Ledger.Crypto;

/// <summary>A sealed record that cannot be opened: not sealed to this key, altered, or malformed.</summary>
public sealed class SealedRecordException(string message) : Exception(message);

/// <summary>
/// Per-record confidentiality for a list of recipients, HPKE-style (RFC 9180's base mode, simplified): a fresh random
/// 32-byte content key encrypts the record with ChaCha20-Poly1305; for each recipient a fresh ephemeral X25519 key
/// agrees a secret with the recipient's public key, HKDF-SHA256 (salt = ephemeral public || recipient public, info
/// names the scheme) turns it into a key-encryption key, and ChaCha20-Poly1305 wraps the content key. The envelope is
/// canonical JSON, one line, and it is what the log stores and hashes, so verification needs no decryption key.
/// Only NSec primitives; nothing hand-written.
/// </summary>
public static class RecordSealer
{
    /// <summary>The envelope's <c>type</c>.</summary>
    public const string EnvelopeType = "x-stakeout-sealed-record";

    /// <summary>The scheme name, in the envelope and in the key derivation.</summary>
    public const string Scheme = "X25519-HKDF-SHA256-ChaCha20Poly1305";

    private static readonly KeyAgreementAlgorithm Agreement = KeyAgreementAlgorithm.X25519;
    private static readonly AeadAlgorithm Aead = AeadAlgorithm.ChaCha20Poly1305;
    private static readonly byte[] WrapInfo = Encoding.ASCII.GetBytes("stakeout-ledger/v1 " + Scheme + " wrap");

    /// <summary>True when <paramref name="record"/> is a sealed envelope.</summary>
    public static bool IsSealed(ReadOnlySpan<byte> record) => record.IndexOf("\"type\":\"x-stakeout-sealed-record\""u8) >= 0;

    /// <summary>Seals <paramref name="plaintext"/> (a record's canonical bytes) to every key in <paramref name="recipients"/>.</summary>
    public static byte[] Seal(ReadOnlySpan<byte> plaintext, IReadOnlyList<byte[]> recipients)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        if (recipients.Count == 0)
        {
            throw new ArgumentException("sealing needs at least one recipient key.", nameof(recipients));
        }

        byte[] contentKey = RandomNumberGenerator.GetBytes(Aead.KeySize);
        byte[] nonce = RandomNumberGenerator.GetBytes(Aead.NonceSize);
        var list = new JsonArray();
        foreach (byte[] recipient in recipients)
        {
            using var ephemeral = Key.Create(Agreement, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.None });
            byte[] epk = ephemeral.PublicKey.Export(KeyBlobFormat.RawPublicKey);
            using var kek = DeriveWrapKey(ephemeral, epk, recipient);
            byte[] wrapped = Aead.Encrypt(kek, new byte[Aead.NonceSize], Encoding.ASCII.GetBytes(RecipientKeys.KeyId(recipient)), contentKey);
            list.Add(new JsonObject { ["kid"] = RecipientKeys.KeyId(recipient), ["epk"] = Convert.ToBase64String(epk), ["wrapped_key"] = Convert.ToBase64String(wrapped) });
        }

        var header = new JsonObject { ["type"] = EnvelopeType, ["alg"] = Scheme, ["recipients"] = list, ["nonce"] = Convert.ToBase64String(nonce) };
        byte[] aad = CanonicalJson.Serialize(header);
        using var cek = Key.Import(Aead, contentKey, KeyBlobFormat.RawSymmetricKey);
        CryptographicOperations.ZeroMemory(contentKey);
        header["ciphertext"] = Convert.ToBase64String(Aead.Encrypt(cek, nonce, aad, plaintext));
        return CanonicalJson.Serialize(header);
    }

    /// <summary>Opens a sealed envelope with one recipient's private key.</summary>
    /// <exception cref="SealedRecordException">Not sealed to this key, altered, or not an envelope.</exception>
    public static byte[] Open(ReadOnlySpan<byte> envelope, RecipientKeys.PrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        JsonObject header;
        try
        {
            header = JsonNode.Parse(envelope.ToArray()) as JsonObject ?? throw new SealedRecordException("the envelope is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new SealedRecordException($"the envelope is not JSON ({e.Message})");
        }

        if ((string?)header["type"] != EnvelopeType || (string?)header["alg"] != Scheme)
        {
            throw new SealedRecordException($"not a {Scheme} envelope");
        }

        string kid = RecipientKeys.KeyId(key.PublicKey);
        var entry = (header["recipients"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(r => (string?)r["kid"] == kid)
            ?? throw new SealedRecordException($"the record is not sealed to key {kid}");
        byte[] ciphertext = Convert.FromBase64String((string?)header["ciphertext"] ?? throw new SealedRecordException("no ciphertext"));
        byte[] nonce = Convert.FromBase64String((string?)header["nonce"] ?? throw new SealedRecordException("no nonce"));
        byte[] epk = Convert.FromBase64String((string?)entry["epk"] ?? throw new SealedRecordException("no epk"));
        byte[] wrapped = Convert.FromBase64String((string?)entry["wrapped_key"] ?? throw new SealedRecordException("no wrapped_key"));
        header.Remove("ciphertext");
        byte[] aad = CanonicalJson.Serialize(header);

        if (!NSec.Cryptography.PublicKey.TryImport(Agreement, epk, KeyBlobFormat.RawPublicKey, out var ephemeralPublic) || ephemeralPublic is null)
        {
            throw new SealedRecordException("the ephemeral key is not an X25519 public key");
        }

        using var shared = Agreement.Agree(key.Key, ephemeralPublic) ?? throw new SealedRecordException("the key agreement failed (invalid ephemeral key)");
        using var kek = WrapKey(shared, epk, key.PublicKey);
        byte[] contentKey = Aead.Decrypt(kek, new byte[Aead.NonceSize], Encoding.ASCII.GetBytes(kid), wrapped)
            ?? throw new SealedRecordException($"the content key wrapped for {kid} does not decrypt (altered)");
        using var cek = Key.Import(Aead, contentKey, KeyBlobFormat.RawSymmetricKey);
        CryptographicOperations.ZeroMemory(contentKey);
        return Aead.Decrypt(cek, nonce, aad, ciphertext) ?? throw new SealedRecordException("the record does not decrypt (altered)");
    }

    private static Key DeriveWrapKey(Key ephemeral, byte[] epk, byte[] recipient)
    {
        if (!NSec.Cryptography.PublicKey.TryImport(Agreement, recipient, KeyBlobFormat.RawPublicKey, out var recipientKey) || recipientKey is null)
        {
            throw new ArgumentException($"recipient key {RecipientKeys.KeyId(recipient)} is not an X25519 public key.", nameof(recipient));
        }

        using var shared = Agreement.Agree(ephemeral, recipientKey) ?? throw new ArgumentException("the key agreement failed (a low-order recipient key).", nameof(recipient));
        return WrapKey(shared, epk, recipient);
    }

    private static Key WrapKey(SharedSecret shared, byte[] epk, byte[] recipient) =>
        KeyDerivationAlgorithm.HkdfSha256.DeriveKey(shared, [.. epk, .. recipient], WrapInfo, Aead, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.None });
}
