using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Stakeout.Integration.Tests;

/// <summary>The stakeout CLI as a process of its own, for tests that talk to a running monitor and stop it.</summary>
internal static class StakeoutProcess
{
    /// <summary>The CLI built beside the tests.</summary>
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "stakeout.dll");

    /// <summary>Starts <c>stakeout ARGS</c>; stdout is drained, stderr collected for the test's messages.</summary>
    public static (Process Process, Task<string> Stderr) Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi)!;
        _ = process.StandardOutput.ReadToEndAsync();
        return (process, process.StandardError.ReadToEndAsync());
    }

    /// <summary>Starts <c>stakeout ARGS</c> keeping both streams: stdout and stderr complete when the process ends (or is killed).</summary>
    public static (Process Process, Task<string> Stdout, Task<string> Stderr) StartCapturing(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi)!;
        return (process, process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
    }

    /// <summary>Sends <paramref name="signal"/> (e.g. <c>-TERM</c>, <c>-HUP</c>) to the process.</summary>
    public static void Signal(Process process, string signal) =>
        Process.Start("kill", [signal, process.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();

    /// <summary>Ends a process a failed test left running (only the test's own, by its handle).</summary>
    public static void KillIfRunning(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>A loopback port free at the time of asking.</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
