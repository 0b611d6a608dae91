namespace Stakeout.Integration.Tests;

/// <summary>`stakeout evaluate` as a user runs it: arguments, errors and (once a scorer exists) reports.</summary>
public sealed class CliEvaluateTests
{
    [Fact]
    public void Help_ListsEvaluateWithExamplesAndOptions()
    {
        var (code, stdout, _) = CliInspectTests.Run("evaluate", "--help");

        Assert.Equal(0, code);
        Assert.Contains("Examples:", stdout, StringComparison.Ordinal);
        foreach (string option in new[] { "--model", "--json", "--output-dir", "--threshold", "--dedupe", "--require-signed" })
        {
            Assert.Contains(option, stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Evaluate_MissingModel_FailsNamingTheFile()
    {
        var (code, stdout, stderr) = CliInspectTests.Run("evaluate", "--model", "no/such/model.stakeout", "flows.csv");

        Assert.Equal(1, code);
        Assert.Contains("model.stakeout", stderr, StringComparison.Ordinal);
        Assert.Contains("no such model artifact", stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public void Evaluate_NotAnArtifact_FailsSayingWhy()
    {
        string file = Path.Combine(Path.GetTempPath(), $"stakeout-{Guid.NewGuid():N}.stakeout");
        File.WriteAllText(file, "Flow Duration,Label\n1,BENIGN\n");
        try
        {
            var (code, _, stderr) = CliInspectTests.Run("evaluate", "--model", file, file);

            Assert.Equal(1, code);
            Assert.Contains(file, stderr, StringComparison.Ordinal);
            Assert.Contains("not a Stakeout model artifact", stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Evaluate_WithoutModelOption_IsRefused()
    {
        var (code, _, stderr) = CliInspectTests.Run("evaluate", "flows.csv");

        Assert.NotEqual(0, code);
        Assert.Contains("--model", stderr, StringComparison.Ordinal);
    }
}
