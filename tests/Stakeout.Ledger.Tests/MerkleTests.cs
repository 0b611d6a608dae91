using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Stakeout.Ledger.Merkle;

namespace Stakeout.Ledger.Tests;

public sealed class MerkleTests
{
    // transparency-dev/merkle @ 417fb0c, testonly/constants.go: LeafInputs() and RootHashes() (tree sizes 0-8), transcribed.
    private static readonly string[] LeafInputs = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];

    private static readonly string[] Roots =
    [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    [Fact]
    public void Roots_TransparencyDevVectorsSizes0To8_Match()
    {
        var tree = new MerkleTree();
        var range = new CompactRange();
        Assert.Equal(Roots[0], Convert.ToHexStringLower(MerkleHasher.EmptyRoot()));
        Assert.Equal(Roots[0], Convert.ToHexStringLower(range.Root()));
        for (int i = 0; i < LeafInputs.Length; i++)
        {
            byte[] leaf = MerkleHasher.HashLeaf(Convert.FromHexString(LeafInputs[i]));
            tree.AppendLeafHash(leaf);
            range.Append(leaf);
            Assert.Equal(Roots[i + 1], Convert.ToHexStringLower(tree.Root(i + 1)));
            Assert.Equal(Roots[i + 1], Convert.ToHexStringLower(range.Root()));
        }

        for (int size = 0; size <= 8; size++)
        {
            Assert.Equal(Roots[size], Convert.ToHexStringLower(tree.Root(size)));
        }
    }

    [Fact]
    public void HashLeafAndChildren_Rfc6962KnownAnswers_Match()
    {
        // transparency-dev/merkle rfc6962/rfc6962_test.go: leaf "L123456", children "N123" and "N456", transcribed.
        Assert.Equal("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56", Convert.ToHexStringLower(MerkleHasher.HashLeaf("L123456"u8)));
        Assert.Equal("aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb", Convert.ToHexStringLower(MerkleHasher.HashChildren("N123"u8, "N456"u8)));
    }

    public static TheoryData<string, long, long, string, string, string, bool> InclusionCases() => Cases("merkle-inclusion.tsv");

    public static TheoryData<string, long, long, string, string, string, bool> ConsistencyCases() => Cases("merkle-consistency.tsv");

    [Theory]
    [MemberData(nameof(InclusionCases))]
    public void VerifyInclusion_TransparencyDevCase_AcceptsExactlyTheValidOnes(string name, long index, long size, string root, string leaf, string proof, bool wantError)
    {
        var failure = ProofVerifier.VerifyInclusion(index, size, Convert.FromBase64String(leaf), Proof(proof), Convert.FromBase64String(root));

        Assert.True(wantError == (failure is not null), $"{name}: {(failure?.ToString() ?? "accepted")}");
    }

    [Theory]
    [MemberData(nameof(ConsistencyCases))]
    public void VerifyConsistency_TransparencyDevCase_AcceptsExactlyTheValidOnes(string name, long size1, long size2, string root1, string root2, string proof, bool wantError)
    {
        var failure = ProofVerifier.VerifyConsistency(size1, size2, Convert.FromBase64String(root1), Convert.FromBase64String(root2), Proof(proof));

        Assert.True(wantError == (failure is not null), $"{name}: {(failure?.ToString() ?? "accepted")}");
    }

    [Fact]
    public void VerifyInclusion_WrongRoot_SaysExpectedAndComputed()
    {
        var tree = Build(5);

        var failure = ProofVerifier.VerifyInclusion(2, 5, tree.LeafHash(2), tree.InclusionProof(2, 5), new byte[32]);

        Assert.NotNull(failure);
        Assert.Equal(ProofFailureKind.RootMismatch, failure.Kind);
        Assert.Equal(new string('0', 64), failure.Expected);
        Assert.Equal(Convert.ToHexStringLower(tree.Root(5)), failure.Computed);
    }

    [Property(MaxTest = 300)]
    public void Tree_RandomSize_RootsAndProofsMatchTheRecursiveReference(PositiveInt sizeSeed, NonNegativeInt a, NonNegativeInt b)
    {
        int size = 1 + (sizeSeed.Get % 300);
        var leaves = Enumerable.Range(0, size).Select(i => MerkleHasher.HashLeaf(BitConverter.GetBytes(i * 7919))).ToArray();
        var tree = new MerkleTree();
        var range = new CompactRange();
        foreach (var leaf in leaves)
        {
            tree.AppendLeafHash(leaf);
            range.Append(leaf);
        }

        int index = a.Get % size;
        int size1 = 1 + (b.Get % size);
        Assert.Equal(Reference.Root(leaves), tree.Root(size));
        Assert.Equal(Reference.Root(leaves), range.Root());
        Assert.Equal(Reference.Root(leaves[..size1]), tree.Root(size1));

        var inclusion = tree.InclusionProof(index, size);
        Assert.Equal(Reference.Path(index, leaves), inclusion);
        Assert.Equal(ProofPlanner.InclusionLength(index, size), inclusion.Count);
        Assert.Null(ProofVerifier.VerifyInclusion(index, size, leaves[index], inclusion, tree.Root(size)));

        var consistency = tree.ConsistencyProof(size1, size);
        Assert.Equal(size1 == size ? [] : Reference.Proof(size1, leaves), consistency);
        Assert.Null(ProofVerifier.VerifyConsistency(size1, size, tree.Root(size1), tree.Root(size), consistency));
        Assert.NotNull(ProofVerifier.VerifyConsistency(0, size, MerkleHasher.EmptyRoot(), tree.Root(size), []));

        // A writer resuming from a checkpoint's stored range continues to the same root.
        var resumed = CompactRange.FromHashes(size1, PrefixRange(leaves, size1).Hashes);
        Assert.Equal(tree.Root(size1), resumed.Root());
        foreach (var leaf in leaves[size1..])
        {
            resumed.Append(leaf);
        }

        Assert.Equal(tree.Root(size), resumed.Root());
    }

    [Property(MaxTest = 100)]
    public void Tree_ProofsAskedWhileItGrows_MatchTheReferenceAtEverySize(PositiveInt stepSeed, NonNegativeInt indexSeed)
    {
        // The tree keeps the hashes of imperfect ranges it computed; asking at many sizes while leaves keep arriving, and
        // scribbling over every array handed out, must never change a later answer.
        int step = 1 + (stepSeed.Get % 37);
        var leaves = Enumerable.Range(0, 400).Select(i => MerkleHasher.HashLeaf(BitConverter.GetBytes(i * 104729))).ToArray();
        var tree = new MerkleTree();
        for (int size = 1; size <= leaves.Length; size++)
        {
            tree.AppendLeafHash(leaves[size - 1]);
            if (size % step != 0 && size != leaves.Length)
            {
                continue;
            }

            int index = (indexSeed.Get + size) % size;
            int size1 = 1 + ((indexSeed.Get + (3 * size)) % size);
            byte[] root = tree.Root(size);
            Assert.Equal(Reference.Root(leaves[..size]), root);
            var inclusion = tree.InclusionProof(index, size);
            Assert.Equal(Reference.Path(index, leaves[..size]), inclusion);
            Assert.Null(ProofVerifier.VerifyInclusion(index, size, leaves[index], inclusion, root));
            var consistency = tree.ConsistencyProof(size1, size);
            Assert.Equal(size1 == size ? [] : Reference.Proof(size1, leaves[..size]), consistency);
            foreach (byte[] hash in inclusion.Concat(consistency).Append(root))
            {
                Array.Fill(hash, (byte)0xA5);
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1023)]
    [InlineData(1024)]
    [InlineData(3132)]
    [InlineData(300_000)]
    public void HashLeaf_AnyLength_IsSha256OfZeroByteAndData(int length)
    {
        byte[] data = new byte[length];
        new Random(length).NextBytes(data);
        byte[] prefixed = [0x00, .. data];

        Assert.Equal(System.Security.Cryptography.SHA256.HashData(prefixed), MerkleHasher.HashLeaf(data));
    }

    [Property(MaxTest = 200)]
    public void VerifyInclusion_OneFlippedBitAnywhere_IsRejected(PositiveInt sizeSeed, NonNegativeInt indexSeed, NonNegativeInt bitSeed)
    {
        int size = 2 + (sizeSeed.Get % 100);
        int index = indexSeed.Get % size;
        var tree = Build(size);
        var proof = tree.InclusionProof(index, size).Select(p => (byte[])p.Clone()).ToList();
        byte[] leaf = tree.LeafHash(index).ToArray();
        byte[] root = tree.Root(size);
        var targets = new List<byte[]>(proof) { leaf, root };
        byte[] target = targets[bitSeed.Get % targets.Count];
        target[(bitSeed.Get / targets.Count) % 32] ^= (byte)(1 << (bitSeed.Get % 8));

        Assert.NotNull(ProofVerifier.VerifyInclusion(index, size, leaf, proof, root));
    }

    private static CompactRange PrefixRange(byte[][] leaves, int size)
    {
        var range = new CompactRange();
        foreach (var leaf in leaves[..size])
        {
            range.Append(leaf);
        }

        return range;
    }

    private static MerkleTree Build(int size)
    {
        var tree = new MerkleTree();
        for (int i = 0; i < size; i++)
        {
            tree.AppendLeafHash(MerkleHasher.HashLeaf(BitConverter.GetBytes(i)));
        }

        return tree;
    }

    private static List<byte[]> Proof(string text) => text == "-" ? [] : text.Split(',').Select(Convert.FromBase64String).ToList();

    private static TheoryData<string, long, long, string, string, string, bool> Cases(string file)
    {
        var data = new TheoryData<string, long, long, string, string, string, bool>();
        foreach (string line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "TestData", file)))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }

            string[] f = line.Split('\t');
            // Indices are uint64 there; 2^64-1 (an index "minus one" below 0) reads as -1 here, as out of range as there.
            data.Add(f[0], unchecked((long)ulong.Parse(f[1], CultureInfo.InvariantCulture)), unchecked((long)ulong.Parse(f[2], CultureInfo.InvariantCulture)), f[3], f[4], f[5], f[6] == "1");
        }

        return data;
    }

    /// <summary>RFC 9162 section 2.1 written as directly as the RFC states it: slow, obviously right.</summary>
    private static class Reference
    {
        public static byte[] Root(byte[][] leaves)
        {
            if (leaves.Length == 0)
            {
                return MerkleHasher.EmptyRoot();
            }

            if (leaves.Length == 1)
            {
                return leaves[0];
            }

            int k = Split(leaves.Length);
            return MerkleHasher.HashChildren(Root(leaves[..k]), Root(leaves[k..]));
        }

        public static List<byte[]> Path(int m, byte[][] d)
        {
            if (d.Length == 1)
            {
                return [];
            }

            int k = Split(d.Length);
            return m < k ? [.. Path(m, d[..k]), Root(d[k..])] : [.. Path(m - k, d[k..]), Root(d[..k])];
        }

        public static List<byte[]> Proof(int m, byte[][] d) => SubProof(m, d, true);

        private static List<byte[]> SubProof(int m, byte[][] d, bool b)
        {
            if (m == d.Length)
            {
                return b ? [] : [Root(d)];
            }

            int k = Split(d.Length);
            return m <= k ? [.. SubProof(m, d[..k], b), Root(d[k..])] : [.. SubProof(m - k, d[k..], false), Root(d[..k])];
        }

        private static int Split(int n)
        {
            int k = 1;
            while (k * 2 < n)
            {
                k *= 2;
            }

            return k;
        }
    }
}
