using System.Text;
using Stakeout.Core;
using static Stakeout.Models.Tests.TestModels;

namespace Stakeout.Models.Tests;

/// <summary>
/// Seeded fuzzing: mangled artifacts and LightGBM texts either load or fail with <see cref="ArtifactException"/>; never
/// another exception, never a hang. A model that does load must score without throwing.
/// </summary>
public sealed class FuzzTests
{
    [Fact]
    public void Read_MutatedArtifacts_OnlyArtifactExceptions()
    {
        byte[] valid = ModelArtifact.Create(Manifest("lightgbm", BinaryFeatures, ["BENIGN", "ATTACK"]), Encoding.UTF8.GetBytes(BinaryModel())).ToBytes();
        var random = new Random(20261125);

        for (int i = 0; i < 3000; i++)
        {
            byte[] mutated = Mutate(random, valid);
            try
            {
                ModelArtifact.Read(mutated, "fuzz");
            }
            catch (ArtifactException)
            {
                // expected for almost every mutation
            }
        }

        Assert.Equal(ArtifactProblem.NotAnArtifact, Assert.Throws<ArtifactException>(() => ModelArtifact.Read(new byte[100], "zeros")).Problem);
    }

    [Fact]
    public void Compile_MutatedLightGbmText_LoadsAndScoresOrThrowsArtifactException()
    {
        string valid = RandomTrees.LightGbmText(new Random(9), trees: 3, classes: 3, features: 2, maxLeaves: 6);
        string[] lines = valid.Split('\n');
        var random = new Random(42);
        int loaded = 0;

        for (int i = 0; i < 3000; i++)
        {
            string[] copy = (string[])lines.Clone();
            int line = random.Next(copy.Length);
            copy[line] = random.Next(6) switch
            {
                0 => "",
                1 => copy[line] + " " + random.Next(-5, 50).ToString(System.Globalization.CultureInfo.InvariantCulture),
                2 => copy[line].Length > 0 ? copy[line][..random.Next(copy[line].Length)] : "x",
                3 => copy[line].Replace(random.Next(10).ToString(System.Globalization.CultureInfo.InvariantCulture), random.Next(-3, 10).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal),
                4 => copy[random.Next(copy.Length)],
                _ => copy[line] + "=",
            };
            try
            {
                var scorer = LightGbm(string.Join('\n', copy), [1, 2], ThreeClasses);
                scorer.Score(new float[FeatureSchema.Count], new float[3]);
                scorer.Explain(new float[FeatureSchema.Count], 0, new double[FeatureSchema.Count + 1]);
                loaded++;
            }
            catch (ArtifactException)
            {
                // refused with a reason: fine
            }
        }

        Assert.InRange(loaded, 1, 2999); // some mutations are harmless (a number changed), most are refused
    }

    private static byte[] Mutate(Random random, byte[] source)
    {
        var bytes = new List<byte>(source);
        int edits = random.Next(1, 4);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: bytes.RemoveRange(at, Math.Min(random.Next(1, 64), bytes.Count - at)); break;
                case 2: bytes.InsertRange(at, Enumerable.Range(0, random.Next(1, 16)).Select(_ => (byte)random.Next(256))); break;
                case 3: bytes[at] = (byte)"\n 0123456789abcdef"[random.Next(18)]; break;
                default: bytes.InsertRange(at, source.Skip(random.Next(source.Length)).Take(random.Next(1, 100))); break;
            }
        }

        return [.. bytes];
    }
}
