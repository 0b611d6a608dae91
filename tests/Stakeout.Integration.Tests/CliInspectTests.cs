using System.Diagnostics;
using System.Text.Json;

namespace Stakeout.Integration.Tests;

/// <summary>Runs the real `stakeout` program, as a user would, and checks its JSON contract.</summary>
public sealed class CliInspectTests
{
    [SkippableFact]
    public void DataInspect_Json_HasContractFieldsAndReadmeCounts()
    {
        string data = SharedData.Path("cicids2017");
        var (code, stdout, stderr) = Run("data", "inspect", data, SharedData.Path("cicids2017-families"), "--json");

        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(18491, root.GetProperty("rows_read").GetInt64());
        Assert.Equal(18491, root.GetProperty("rows_used").GetInt64());
        Assert.Equal(0, root.GetProperty("rows_rejected").GetInt64());
        Assert.Equal(0, root.GetProperty("rows_dropped").GetInt64());
        Assert.Equal(8, root.GetProperty("files").GetArrayLength());
        Assert.Equal(652, root.GetProperty("classes").GetProperty("Web Attack - XSS").GetInt64());
        Assert.Equal(2853, root.GetProperty("families").GetProperty("WebAttack").GetInt64());
        Assert.Equal(JsonValueKind.Array, root.GetProperty("rejects").ValueKind);
        Assert.True(root.GetProperty("quirks").GetProperty("infinity:Flow Bytes/s").GetInt64() > 0);
        var features = root.GetProperty("features");
        Assert.Equal(78, features.GetArrayLength());
        Assert.Equal("Flow Bytes/s", features[14].GetProperty("name").GetString());
        Assert.True(features[14].GetProperty("positive_infinity").GetInt64() > 0);
        Assert.Equal("cicids2017-trafficlabelling", root.GetProperty("files")[3].GetProperty("layout").GetString());
    }

    [SkippableFact]
    public void DataInspect_BackslashPath_IsResolved()
    {
        _ = SharedData.Path("cicids2017");
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, SharedData.Path("cicids2017", "mlcve_head200.csv")).Replace('/', '\\');
        var (code, stdout, stderr) = Run("data", "inspect", relative, "--json");

        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(200, doc.RootElement.GetProperty("rows_used").GetInt64());
        Assert.Equal(1, doc.RootElement.GetProperty("quirks").GetProperty("backslash_path").GetInt64());
    }

    [Fact]
    public void DataInspect_MissingPath_FailsWithClearMessage()
    {
        var (code, _, stderr) = Run("data", "inspect", "no/such/flows.csv");

        Assert.Equal(1, code);
        Assert.Contains("no/such/flows.csv", stderr, StringComparison.Ordinal);
        Assert.Contains("no such file or directory", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void DataInspect_SemicolonFile_NamesFileLineAndDelimiter()
    {
        string file = Path.Combine(Path.GetTempPath(), $"stakeout-{Guid.NewGuid():N}.csv");
        File.WriteAllText(file, "Flow Duration;Total Fwd Packets;Label\n1;2;BENIGN\n");
        try
        {
            var (code, stdout, stderr) = Run("data", "inspect", file, "--strict");
            Assert.Equal(1, code);
            Assert.Contains($"{file}:1", stderr, StringComparison.Ordinal);
            Assert.Contains("wrong delimiter", stderr, StringComparison.Ordinal);
            Assert.Equal(string.Empty, stdout);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Help_ListsInspectWithExamples()
    {
        var (code, stdout, _) = Run("data", "inspect", "--help");

        Assert.Equal(0, code);
        Assert.Contains("Examples:", stdout, StringComparison.Ordinal);
        Assert.Contains("--non-finite", stdout, StringComparison.Ordinal);
    }

    internal static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "stakeout.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"stakeout {string.Join(' ', args)} did not finish in 2 minutes.");
        }

        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
