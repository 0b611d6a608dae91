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
            Assert.Equal(2, code); // bad input data
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

    [Fact]
    public void DataInspect_BadAndDroppedRows_JsonListsRejectsWithFileLineReasonAndDropsByReason()
    {
        string file = Path.Combine(Path.GetTempPath(), $"stakeout-{Guid.NewGuid():N}.csv");
        File.WriteAllText(file, "Flow Duration,Flow Bytes/s,Label\n10,2.5,BENIGN\n11,abc,BENIGN\n12,Infinity,DDoS\n13,1,\n10,2.5,BENIGN\n\n14,1,Web Attack \u2013 XSS\n");
        try
        {
            var (code, stdout, stderr) = Run("data", "inspect", file, "--json", "--non-finite", "drop", "--duplicates", "drop");

            Assert.True(code == 0, stderr);
            using var doc = JsonDocument.Parse(stdout);
            var root = doc.RootElement;
            Assert.Equal(6, root.GetProperty("rows_read").GetInt64()); // the empty line is not a row
            Assert.Equal(2, root.GetProperty("rows_used").GetInt64());
            Assert.Equal(2, root.GetProperty("rows_rejected").GetInt64());
            Assert.Equal(2, root.GetProperty("rows_dropped").GetInt64());
            Assert.True(root.GetProperty("balanced").GetBoolean());
            var rejects = root.GetProperty("rejects");
            Assert.Equal(2, rejects.GetArrayLength());
            Assert.Equal(file, rejects[0].GetProperty("file").GetString());
            Assert.Equal(3, rejects[0].GetProperty("line").GetInt64());
            Assert.Equal("not_a_number", rejects[0].GetProperty("reason").GetString());
            Assert.Equal("Flow Bytes/s", rejects[0].GetProperty("field").GetString());
            Assert.Equal(5, rejects[1].GetProperty("line").GetInt64());
            Assert.Equal("missing_label", rejects[1].GetProperty("reason").GetString());
            Assert.Equal(1, root.GetProperty("rejected_by_reason").GetProperty("not_a_number").GetInt64());
            Assert.Equal(1, root.GetProperty("dropped_by_reason").GetProperty("non_finite").GetInt64());
            Assert.Equal(1, root.GetProperty("dropped_by_reason").GetProperty("duplicate").GetInt64());
            Assert.Equal(1, root.GetProperty("classes").GetProperty("Web Attack - XSS").GetInt64());
            Assert.Equal(1, root.GetProperty("quirks").GetProperty("blank_lines").GetInt64());
            var f = root.GetProperty("files")[0];
            Assert.Equal(6, f.GetProperty("rows_read").GetInt64());
            Assert.Equal("cicids2017-partial", f.GetProperty("layout").GetString());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void DataInspect_TruncatedGzip_IsReportedWithItsErrorAndExitCode2OrFailsUnderStrict()
    {
        string file = Path.Combine(Path.GetTempPath(), $"stakeout-{Guid.NewGuid():N}.csv.gz");
        using (var memory = new MemoryStream())
        {
            using (var gzip = new System.IO.Compression.GZipStream(memory, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            {
                gzip.Write(System.Text.Encoding.UTF8.GetBytes("Flow Duration,Label\n" + string.Concat(Enumerable.Range(0, 5000).Select(i => $"{i},BENIGN\n"))));
            }

            File.WriteAllBytes(file, memory.ToArray()[..(int)(memory.Length / 2)]);
        }

        try
        {
            var (code, stdout, stderr) = Run("data", "inspect", file, "--json");
            var (strictCode, strictStdout, strictStderr) = Run("data", "inspect", file, "--json", "--strict");

            // Reported in full, and exit code 2 (bad input data), so a script does not take it for a clean inspection.
            Assert.True(code == 2, stderr);
            Assert.Contains("1 of 1 file(s) could not be read", stderr, StringComparison.Ordinal);
            using var doc = JsonDocument.Parse(stdout);
            Assert.Contains("gzip data is truncated or corrupt", doc.RootElement.GetProperty("files")[0].GetProperty("error").GetString(), StringComparison.Ordinal);
            Assert.Equal(1, doc.RootElement.GetProperty("quirks").GetProperty("unreadable_file").GetInt64());
            Assert.Equal(2, strictCode);
            Assert.Contains(file, strictStderr, StringComparison.Ordinal);
            Assert.Contains("gzip data is truncated or corrupt", strictStderr, StringComparison.Ordinal);
            Assert.Equal(string.Empty, strictStdout);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [SkippableFact]
    public void DataInspect_OnATerminal_ShowsProgressOnStderrWhileJsonGoesToARedirectedStdout()
    {
        // `script` gives the program a pseudo-terminal, as a person running `stakeout data inspect big.csv --json > r.json` has.
        Skip.IfNot(File.Exists("/usr/bin/script"), "needs /usr/bin/script (bsdutils) to provide a pseudo-terminal");
        string dir = Path.Combine(Path.GetTempPath(), $"stakeout-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string csv = Path.Combine(dir, "flows.csv");
        string json = Path.Combine(dir, "report.json");
        File.WriteAllText(csv, "Flow Duration,Total Fwd Packets,Label\n" + string.Concat(Enumerable.Range(0, 30000).Select(i => $"{i},{i % 7},BENIGN\n")));
        try
        {
            string dll = StakeoutProcess.Dll;
            var psi = new ProcessStartInfo("/usr/bin/script") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-qec");
            psi.ArgumentList.Add($"dotnet '{dll}' data inspect '{csv}' --json > '{json}' < /dev/null");
            psi.ArgumentList.Add("/dev/null");
            psi.Environment["TERM"] = "xterm-256color";
            using var p = Process.Start(psi)!;
            var terminal = p.StandardOutput.ReadToEndAsync();
            var errors = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException("stakeout data inspect under script did not finish in 2 minutes.");
            }

            Assert.True(p.ExitCode == 0, terminal.Result + errors.Result);
            Assert.Contains("100%", terminal.Result, StringComparison.Ordinal);
            Assert.Contains("flows.csv", terminal.Result, StringComparison.Ordinal);
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            Assert.Equal(30000, doc.RootElement.GetProperty("rows_used").GetInt64());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    internal static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(StakeoutProcess.Dll);
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
