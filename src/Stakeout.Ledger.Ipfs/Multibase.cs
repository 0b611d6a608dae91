using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Ipfs;

/// <summary>Reads a CIDv1 that a node printed in base32 (<c>b…</c>, Kubo's default) or base58btc (<c>z…</c>, js-ipfs).</summary>
internal static class Multibase
{
    private const string Base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    public static bool TryParseCid(string? text, out Cid cid)
    {
        cid = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        if (text[0] == 'b')
        {
            return Cid.TryParse(text, out cid, out _);
        }

        if (text[0] != 'z' || !TryDecodeBase58(text.AsSpan(1), out byte[] bytes))
        {
            return false;
        }

        return Cid.TryFromBytes(bytes, out cid, out _);
    }

    internal static bool TryDecodeBase58(ReadOnlySpan<char> text, out byte[] bytes)
    {
        var value = System.Numerics.BigInteger.Zero;
        int zeros = 0;
        bool leading = true;
        foreach (char c in text)
        {
            int digit = Base58Alphabet.IndexOf(c, StringComparison.Ordinal);
            if (digit < 0)
            {
                bytes = [];
                return false;
            }

            if (leading && digit == 0)
            {
                zeros++;
                continue;
            }

            leading = false;
            value = (value * 58) + digit;
        }

        byte[] body = value.IsZero ? [] : value.ToByteArray(isUnsigned: true, isBigEndian: true);
        bytes = new byte[zeros + body.Length];
        body.CopyTo(bytes, zeros);
        return true;
    }
}
