using System.Diagnostics;
using System.Globalization;

namespace Stakeout.Integration.Tests;

/// <summary>The stakeout CLI as a process of its own, for tests that talk to a running monitor and stop it.</summary>
internal static class StakeoutProcess
{
    /// <summary>The CLI built beside the tests.</summary>
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "stakeout.dll");

    /// <summary>Starts <c>stakeout ARGS</c>; stdout is drained, stderr collected for the test's messages.</summary>
    public static (Process Process, Task<string> Stderr) Start(params string[] args) => Draining(Launch(["dotnet", Dll], args, stdin: false));

    /// <summary>
    /// Starts <c>stakeout ARGS</c> as a bash script starts a background job (<c>stakeout ... &amp;</c>): with SIGINT and
    /// SIGQUIT ignored, which exec keeps. With <paramref name="stdin"/> the process reads that stream's writes.
    /// </summary>
    public static (Process Process, Task<string> Stderr) StartAsBackgroundJob(bool stdin, params string[] args) =>
        Draining(Launch(["/bin/sh", "-c", "trap '' INT QUIT; exec dotnet \"$0\" \"$@\"", Dll], args, stdin));

    /// <summary>
    /// Starts <c>nohup stakeout ARGS</c>, as users and supervisors start a long-lived monitor: SIGHUP is inherited as
    /// ignored (nohup's whole job), stdout is drained and stderr collected.
    /// </summary>
    public static (Process Process, Task<string> Stderr) StartUnderNohup(params string[] args) => Draining(Launch(["nohup", "dotnet", Dll], args, stdin: false));

    /// <summary>Starts <c>stakeout ARGS</c> keeping both streams: stdout and stderr complete when the process ends (or is killed).</summary>
    public static (Process Process, Task<string> Stdout, Task<string> Stderr) StartCapturing(params string[] args)
    {
        var process = Launch(["dotnet", Dll], args, stdin: false);
        return (process, process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
    }

    /// <summary>Waits (bounded) until something listens on the loopback <paramref name="port"/>, without connecting to it.</summary>
    public static async Task<bool> WaitForListenerAsync(int port, Process process, TimeSpan bound)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < bound && !process.HasExited)
        {
            if (System.Net.NetworkInformation.IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpListeners().Any(e => e.Port == port))
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
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

    // command[0] is the program, the rest of command then args its arguments; stdout and stderr are redirected.
    private static Process Launch(string[] command, string[] args, bool stdin)
    {
        var psi = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin, UseShellExecute = false };
        foreach (string a in command.Skip(1).Concat(args))
        {
            psi.ArgumentList.Add(a);
        }

        return Process.Start(psi)!;
    }

    private static (Process Process, Task<string> Stderr) Draining(Process process)
    {
        _ = process.StandardOutput.ReadToEndAsync();
        return (process, process.StandardError.ReadToEndAsync());
    }
}
