using System.Text.Json;

namespace Stakeout.Integration.Tests;

/// <summary>`stakeout keys new` and `stakeout model show`, run as a user would, on the format-v1 test artifact.</summary>
public sealed class CliModelTests
{
    private static readonly string V1 = Path.Combine(SharedData.RepoRoot, "tests", "Stakeout.Models.Tests", "TestData", "format-v1");

    [Fact]
    public void KeysNew_WritesOwnerOnlyPrivateKeyAndRefusesToOverwrite()
    {
        string dir = Directory.CreateTempSubdirectory("stakeout-keys-").FullName;

        var (code, stdout, stderr) = CliInspectTests.Run("keys", "new", "--out", dir);
        var (again, _, againErr) = CliInspectTests.Run("keys", "new", "--out", dir);

        Assert.True(code == 0, stderr);
        Assert.Contains("Key id", stdout, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, "stakeout-signing.key")));
        }

        Assert.StartsWith("stakeout-ed25519-public ", File.ReadAllText(Path.Combine(dir, "stakeout-signing.pub")), StringComparison.Ordinal);
        Assert.Equal(1, again);
        Assert.Contains("already exists", againErr, StringComparison.Ordinal);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void ModelShow_Json_VerifiedSummaryOfTheV1Artifact()
    {
        var (code, stdout, stderr) = CliInspectTests.Run("model", "show", Path.Combine(V1, "families-lightgbm.stakeout"), "--json", "--trusted-key", Path.Combine(V1, "signer.pub"));

        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("format_version").GetInt32());
        Assert.Equal(64, root.GetProperty("sha256").GetString()!.Length);
        Assert.Equal("ed25519", root.GetProperty("signature").GetProperty("algorithm").GetString());
        Assert.Equal("lightgbm", root.GetProperty("manifest").GetProperty("model_kind").GetString());
        Assert.Equal(7, root.GetProperty("manifest").GetProperty("classes").GetArrayLength());
        Assert.True(root.GetProperty("manifest").GetProperty("metrics").GetProperty("accuracy").GetDouble() > 0.5);
    }

    [Fact]
    public void ModelShow_UntrustedSigner_FailsSayingWhy()
    {
        string dir = Directory.CreateTempSubdirectory("stakeout-keys-").FullName;
        CliInspectTests.Run("keys", "new", "--out", dir);

        var (code, _, stderr) = CliInspectTests.Run("model", "show", Path.Combine(V1, "families-lightgbm.stakeout"), "--trusted-key", Path.Combine(dir, "stakeout-signing.pub"));

        Assert.Equal(3, code); // integrity (docs/user-guide.md, exit codes)
        Assert.Contains("bad signature", stderr, StringComparison.Ordinal);
        Assert.Contains("not among the trusted keys", stderr, StringComparison.Ordinal);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void ModelShow_TamperedFile_FailsNamingTheProblem()
    {
        string file = Path.Combine(Path.GetTempPath(), $"stakeout-{Guid.NewGuid():N}.stakeout");
        byte[] bytes = File.ReadAllBytes(Path.Combine(V1, "families-lightgbm.stakeout"));
        bytes[3000] ^= 0x01; // inside the model section
        File.WriteAllBytes(file, bytes);

        var (code, _, stderr) = CliInspectTests.Run("model", "show", file);

        Assert.Equal(3, code); // integrity (docs/user-guide.md, exit codes)
        Assert.Contains("tampered or corrupted artifact", stderr, StringComparison.Ordinal);
        File.Delete(file);
    }
}
