using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FsCheck.Xunit;
using Stakeout.Core;
using static Stakeout.Models.Tests.TestModels;

namespace Stakeout.Models.Tests;

public sealed class ModelArtifactTests : IDisposable
{
    private readonly ModelSigningKey _key = ModelSigningKey.Create();

    public void Dispose() => _key.Dispose();

    private static ModelArtifact SmallArtifact() => ModelArtifact.Create(
        Manifest("logistic-regression", [1, 14], ["BENIGN", "ATTACK"]) with { Metrics = new Dictionary<string, double> { ["accuracy"] = 0.9 } },
        Encoding.UTF8.GetBytes("""{"features":[1,14],"min":[0,0],"max":[10,10],"weights":[1.5,-2],"bias":0.25}"""));

    [Property(MaxTest = 100)]
    public void ReadToBytes_AnyManifestAndModel_RoundTripsExactly(int seed, string? text, double metric, bool withSignature)
    {
        var random = new Random(seed);
        // Lone UTF-16 surrogates cannot be written as UTF-8 JSON at all; every other character must survive.
        string note = new((text ?? "").Where(c => !char.IsSurrogate(c)).ToArray());
        int[] features = Enumerable.Range(0, FeatureSchema.Count).OrderBy(_ => random.Next()).Take(random.Next(1, 12)).ToArray();
        string[] classes = ["BENIGN", .. Enumerable.Range(1, random.Next(1, 5)).Select(i => $"class-{i}-{note}")];
        var manifest = Manifest("logistic-regression", features, ["BENIGN", "ATTACK"]) with
        {
            StakeoutVersion = note,
            CreatedUtc = DateTimeOffset.UnixEpoch.AddSeconds(random.NextInt64(0, 4_000_000_000)),
            Threshold = random.NextDouble(),
            ThresholdSource = note,
            Metrics = new Dictionary<string, double> { ["accuracy"] = metric, [note] = random.NextDouble() },
            Hyperparameters = new Dictionary<string, string> { ["num_leaves"] = random.Next().ToString(System.Globalization.CultureInfo.InvariantCulture), [note] = note },
            FeatureImportance = features.ToDictionary(i => FeatureSchema.Features[i].Name, _ => random.NextDouble()),
            Lineage = [new ManifestLineage(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), DateTimeOffset.UnixEpoch.AddDays(random.Next(30000)), note)],
            Training = new ManifestTrainingData
            {
                Files = [new ManifestDataFile(note, random.NextInt64(), Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(note))))],
                RowsRead = random.NextInt64(),
                Seed = random.Next(),
                ClassCounts = classes.ToDictionary(c => c, _ => random.NextInt64()),
            },
        };
        string payload = JsonSerializer.Serialize(new
        {
            features,
            min = features.Select(_ => -random.NextDouble()).ToArray(),
            max = features.Select(_ => random.NextDouble()).ToArray(),
            weights = features.Select(_ => (random.NextDouble() * 10) - 5).ToArray(),
            bias = random.NextDouble(),
        });
        var original = ModelArtifact.Create(manifest, Encoding.UTF8.GetBytes(payload));

        byte[] bytes = original.ToBytes(withSignature ? _key : null);
        var read = ModelArtifact.Read(bytes, "round-trip");

        Assert.Equal(JsonSerializer.Serialize(manifest, ModelArtifact.JsonOptions), JsonSerializer.Serialize(read.Manifest, ModelArtifact.JsonOptions));
        Assert.Equal(original.Payload.ToArray(), read.Payload.ToArray());
        Assert.Equal(withSignature ? _key.KeyId : null, read.Signature?.KeyId);
        Assert.Equal(original.ToBytes(), read.ToBytes());
        float[] row = Enumerable.Range(0, FeatureSchema.Count).Select(_ => (float)random.NextDouble()).ToArray();
        Assert.Equal(Probabilities(original.CreateScorer(), row), Probabilities(read.CreateScorer(), row));
    }

    public static TheoryData<string> Regions => new("magic", "version", "section-header", "section-body", "digest", "signature");

    [Theory]
    [MemberData(nameof(Regions))]
    public void Read_AnyBitFlippedInRegion_RefusedWithThatRegionsProblem(string region)
    {
        byte[] bytes = SmallArtifact().ToBytes(_key);
        var (start, end) = Layout(bytes)[region];
        ArtifactProblem[] allowed = region switch
        {
            "magic" => [ArtifactProblem.NotAnArtifact],
            "version" => [ArtifactProblem.UnknownVersion, ArtifactProblem.Malformed, ArtifactProblem.NotAnArtifact],
            "section-header" => [ArtifactProblem.Malformed, ArtifactProblem.Tampered, ArtifactProblem.Truncated],
            "section-body" => [ArtifactProblem.Tampered],
            "digest" => [ArtifactProblem.Tampered, ArtifactProblem.Malformed],
            _ => [ArtifactProblem.BadSignature, ArtifactProblem.Tampered, ArtifactProblem.Truncated],
        };
        var wrong = new List<string>();

        for (int i = start; i < end; i++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                byte[] flipped = (byte[])bytes.Clone();
                flipped[i] ^= (byte)(1 << bit);
                var problem = ProblemOf(flipped);
                if (problem is null || !allowed.Contains(problem.Value))
                {
                    wrong.Add($"byte {i} bit {bit}: {problem?.ToString() ?? "accepted"}");
                }
            }
        }

        Assert.True(end > start, $"region {region} is empty");
        Assert.True(wrong.Count == 0, $"{region}: {string.Join("; ", wrong.Take(10))}");
    }

    [Fact]
    public void Read_TruncatedAnywhere_Truncated()
    {
        byte[] bytes = SmallArtifact().ToBytes(_key);
        int digestLineEnd = Layout(bytes)["digest"].End;
        var wrong = new List<string>();

        for (int length = 1; length < bytes.Length; length++)
        {
            if (length == digestLineEnd)
            {
                continue; // the whole signature line removed: a valid unsigned artifact (see the next test)
            }

            var problem = ProblemOf(bytes[..length]);
            if (problem != ArtifactProblem.Truncated)
            {
                wrong.Add($"length {length}: {problem?.ToString() ?? "accepted"}");
            }
        }

        Assert.True(wrong.Count == 0, string.Join("; ", wrong.Take(10)));
        Assert.Equal(ArtifactProblem.NotAnArtifact, ProblemOf([]));
    }

    [Fact]
    public void Read_SignatureStripped_LoadsUnsignedButRefusedWhenSignatureRequired()
    {
        byte[] bytes = SmallArtifact().ToBytes(_key);
        byte[] stripped = bytes[..Layout(bytes)["digest"].End];

        var unsigned = ModelArtifact.Read(stripped, "stripped");
        var e = Assert.Throws<ArtifactException>(() => ModelArtifact.Read(stripped, "stripped", new ArtifactLoadOptions { RequireSigned = true }));

        Assert.Null(unsigned.Signature);
        Assert.Equal(ArtifactProblem.SignatureMissing, e.Problem);
    }

    [Theory]
    [InlineData(true, "x")]
    [InlineData(true, "x\n")]
    [InlineData(false, "x")]
    [InlineData(false, "\n")]
    [InlineData(false, "digest 00\n")]
    public void Read_BytesAppended_Tampered(bool withSignature, string tail)
    {
        byte[] bytes = [.. SmallArtifact().ToBytes(withSignature ? _key : null), .. Encoding.ASCII.GetBytes(tail)];

        Assert.Equal(ArtifactProblem.Tampered, ProblemOf(bytes));
    }

    [Fact]
    public void Read_NewerFormatVersion_UnknownVersionSayingUpgrade()
    {
        byte[] bytes = SmallArtifact().ToBytes();
        bytes[Layout(bytes)["version"].Start] = (byte)'3';

        var e = Assert.Throws<ArtifactException>(() => ModelArtifact.Read(bytes, "future.stakeout"));

        Assert.Equal(ArtifactProblem.UnknownVersion, e.Problem);
        Assert.Contains("format version 3", e.Message, StringComparison.Ordinal);
        Assert.Contains("newer Stakeout", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NewerManifestSchema_UnknownVersion()
    {
        var artifact = ModelArtifact.Create(SmallArtifact().Manifest with { SchemaVersion = 2 }, SmallArtifact().Payload.ToArray());

        var e = Assert.Throws<ArtifactException>(() => ModelArtifact.Read(artifact.ToBytes(), "m"));

        Assert.Equal(ArtifactProblem.UnknownVersion, e.Problem);
    }

    [Fact]
    public void Read_UnknownModelKind_SchemaIncompatible()
    {
        var artifact = ModelArtifact.Create(SmallArtifact().Manifest with { ModelKind = "xgboost" }, SmallArtifact().Payload.ToArray());

        var e = Assert.Throws<ArtifactException>(() => ModelArtifact.Read(artifact.ToBytes(), "m"));

        Assert.Equal(ArtifactProblem.SchemaIncompatible, e.Problem);
        Assert.Contains("model kind 'xgboost'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_FeatureNameNotInSchema_SchemaIncompatibleNamingBoth()
    {
        var manifest = SmallArtifact().Manifest with { Features = [new ManifestFeature(1, "Flow Time"), new ManifestFeature(14, "Flow Bytes/s")] };

        var e = Assert.Throws<ArtifactException>(() => ModelArtifact.Read(ModelArtifact.Create(manifest, SmallArtifact().Payload.ToArray()).ToBytes(), "m"));

        Assert.Equal(ArtifactProblem.SchemaIncompatible, e.Problem);
        Assert.Contains("feature 1 is 'Flow Time' in the model but 'Flow Duration'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_PayloadNotMatchingManifest_FailsTheLoad()
    {
        // A LightGBM model with 2 inputs under a manifest listing 3 features: refused when read, not when first scored.
        var artifact = ModelArtifact.Create(Manifest("lightgbm", [1, 14, 15], ["BENIGN", "ATTACK"]), Encoding.UTF8.GetBytes(BinaryModel()));

        var e = Assert.Throws<ArtifactException>(() => ModelArtifact.Read(artifact.ToBytes(), "m"));

        Assert.Equal(ArtifactProblem.SchemaIncompatible, e.Problem);
    }

    [Fact]
    public void Read_Signed_VerifiesAndNamesTheSigner()
    {
        var read = ModelArtifact.Read(SmallArtifact().ToBytes(_key), "signed", new ArtifactLoadOptions { RequireSigned = true, TrustedKeys = [_key.PublicKey] });

        Assert.Equal(_key.KeyId, read.Signature!.KeyId);
        Assert.Equal(_key.PublicKey, read.Signature.PublicKey);
    }

    [Fact]
    public void Read_SignedByUntrustedKey_BadSignature()
    {
        using var other = ModelSigningKey.Create();

        var e = Assert.Throws<ArtifactException>(() => ModelArtifact.Read(SmallArtifact().ToBytes(_key), "signed", new ArtifactLoadOptions { TrustedKeys = [other.PublicKey] }));

        Assert.Equal(ArtifactProblem.BadSignature, e.Problem);
        Assert.Contains("not among the trusted keys", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_SignatureFromAnotherArtifact_BadSignature()
    {
        byte[] a = SmallArtifact().ToBytes(_key);
        var other = ModelArtifact.Create(SmallArtifact().Manifest with { Threshold = 0.7 }, SmallArtifact().Payload.ToArray());
        byte[] b = other.ToBytes(_key);
        byte[] spliced = [.. b[..Layout(b)["digest"].End], .. a[Layout(a)["signature"].Start..]];

        Assert.Equal(ArtifactProblem.BadSignature, ProblemOf(spliced));
    }

    [Fact]
    public void Read_UnsignedWhenSignatureRequired_SignatureMissing()
    {
        var e = Assert.Throws<ArtifactException>(() => ModelArtifact.Read(SmallArtifact().ToBytes(), "unsigned", new ArtifactLoadOptions { RequireSigned = true }));

        Assert.Equal(ArtifactProblem.SignatureMissing, e.Problem);
    }

    [Fact]
    public void Read_UnsignedWhenTrustedKeysGiven_SignatureMissing()
    {
        var e = Assert.Throws<ArtifactException>(() => ModelArtifact.Read(SmallArtifact().ToBytes(), "unsigned", new ArtifactLoadOptions { TrustedKeys = [_key.PublicKey] }));

        Assert.Equal(ArtifactProblem.SignatureMissing, e.Problem);
    }

    [Fact]
    public void SavePrivateKey_ExistingFile_RefusedAndOwnerOnlyWhenNew()
    {
        string dir = Directory.CreateTempSubdirectory("stakeout-keys-").FullName;
        string path = Path.Combine(dir, "k.key");

        _key.SavePrivateKey(path);
        using var loaded = ModelSigningKey.LoadPrivateKey(path);

        Assert.Equal(_key.PublicKey, loaded.PublicKey);
        Assert.Throws<IOException>(() => _key.SavePrivateKey(path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void Save_InvalidManifest_ThrowsAndWritesNothing()
    {
        string dir = Directory.CreateTempSubdirectory("stakeout-models-").FullName;
        string path = Path.Combine(dir, "bad.stakeout");
        var artifact = ModelArtifact.Create(SmallArtifact().Manifest with { ModelKind = "xgboost" }, SmallArtifact().Payload.ToArray());

        Assert.Throws<ArtifactException>(() => artifact.Save(path));

        Assert.Empty(Directory.GetFiles(dir));
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void SaveLoad_SignedFile_SameModelBack()
    {
        string dir = Directory.CreateTempSubdirectory("stakeout-models-").FullName;
        string path = Path.Combine(dir, "m.stakeout");

        var saved = SmallArtifact().Save(path, _key);
        var loaded = ModelArtifact.Load(path, new ArtifactLoadOptions { RequireSigned = true });

        Assert.Equal(saved.Sha256, loaded.Sha256);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)[..Layout(File.ReadAllBytes(path))["digest"].Start])), loaded.Sha256);
        Directory.Delete(dir, recursive: true);
    }

    private static ArtifactProblem? ProblemOf(byte[] bytes)
    {
        try
        {
            ModelArtifact.Read(bytes, "t");
            return null;
        }
        catch (ArtifactException e)
        {
            return e.Problem;
        }
    }

    /// <summary>Byte ranges [Start, End) of each region of a two-section artifact, line ends included.</summary>
    internal static Dictionary<string, (int Start, int End)> Layout(byte[] bytes)
    {
        int Next(int from) => Array.IndexOf(bytes, (byte)'\n', from) + 1;
        var map = new Dictionary<string, (int, int)> { ["magic"] = (0, 18) };
        int pos = Next(0);
        map["version"] = (18, pos);
        int headerStart = pos;
        int headerEnd = Next(pos);
        int length = int.Parse(Encoding.ASCII.GetString(bytes, headerStart, headerEnd - headerStart - 1).Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);
        map["section-header"] = (headerStart, headerEnd);
        map["section-body"] = (headerEnd, headerEnd + length + 1);
        pos = headerEnd + length + 1;
        pos = Next(Next(pos) + int.Parse(Encoding.ASCII.GetString(bytes, pos, Next(pos) - pos - 1).Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture));
        map["digest"] = (pos, Next(pos));
        map["signature"] = (Next(pos), Next(pos) == bytes.Length ? bytes.Length : Next(Next(pos)));
        return map;
    }
}
