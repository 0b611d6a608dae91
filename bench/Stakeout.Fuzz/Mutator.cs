using System.Text;

namespace Stakeout.Fuzz;

/// <summary>
/// Seeded structure-blind mutations (AFL's havoc stage, in spirit): bit flips, interesting bytes and integers, inserted
/// and deleted ranges, duplicated blocks, splices with another seed, truncation, and dictionary tokens of the format.
/// The same seed and case number always give the same bytes, so a finding replays with <c>--replay SEED:CASE</c>.
/// </summary>
internal sealed class Mutator(IReadOnlyList<byte[]> corpus, IReadOnlyList<byte[]> tokens, int maxBytes)
{
    private static readonly int[] Interesting32 = [0, 1, -1, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, int.MaxValue, int.MinValue, 0x7FFFFFFE, 65535, 262144];

    public byte[] Next(Random random)
    {
        var data = new List<byte>(corpus[random.Next(corpus.Count)]);
        int rounds = 1 << random.Next(1, 5);
        for (int i = 0; i < rounds; i++)
        {
            Mutate(data, random);
        }

        if (data.Count > maxBytes)
        {
            data.RemoveRange(maxBytes, data.Count - maxBytes);
        }

        return [.. data];
    }

    private void Mutate(List<byte> d, Random r)
    {
        int at = d.Count == 0 ? 0 : r.Next(d.Count);
        switch (r.Next(11))
        {
            case 0 when d.Count > 0:
                d[at] ^= (byte)(1 << r.Next(8));
                break;
            case 1 when d.Count > 0:
                d[at] = (byte)r.Next(256);
                break;
            case 2 when d.Count >= 4:
                int value = Interesting32[r.Next(Interesting32.Length)];
                at = Math.Min(at, d.Count - 4);
                byte[] bytes = r.Next(2) == 0 ? BitConverter.GetBytes(value) : BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(value));
                for (int k = 0; k < 4; k++)
                {
                    d[at + k] = bytes[k];
                }

                break;
            case 3:
                var insert = new byte[r.Next(1, 64)];
                r.NextBytes(insert);
                d.InsertRange(at, insert);
                break;
            case 4 when d.Count > 1:
                d.RemoveRange(at, Math.Min(d.Count - at, r.Next(1, 128)));
                break;
            case 5 when d.Count > 1:
                int start = r.Next(d.Count), length = Math.Min(d.Count - start, r.Next(1, 512));
                d.InsertRange(at, d.GetRange(start, length));
                break;
            case 6:
                var other = corpus[r.Next(corpus.Count)];
                if (other.Length > 0)
                {
                    int from = r.Next(other.Length);
                    d.RemoveRange(at, d.Count - at);
                    d.AddRange(other.AsSpan(from, Math.Min(other.Length - from, 4096)).ToArray());
                }

                break;
            case 7 when d.Count > 0:
                d.RemoveRange(at, d.Count - at); // truncation, the commonest real-world damage
                break;
            case 8 when tokens.Count > 0:
                d.InsertRange(at, tokens[r.Next(tokens.Count)]);
                break;
            case 9 when tokens.Count > 0 && d.Count > 0:
                var token = tokens[r.Next(tokens.Count)];
                d.RemoveRange(at, Math.Min(d.Count - at, token.Length));
                d.InsertRange(at, token);
                break;
            default:
                if (d.Count > 0)
                {
                    d[at] = (byte)(d[at] + r.Next(-35, 36));
                }

                break;
        }
    }

    public static IReadOnlyList<byte[]> Tokens(params string[] text) => [.. text.Select(Encoding.UTF8.GetBytes)];
}
