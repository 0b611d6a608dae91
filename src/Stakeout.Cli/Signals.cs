using System.Runtime.InteropServices;

namespace Stakeout.Cli;

/// <summary>
/// Makes SIGINT, and SIGHUP for the commands that reload on it, reach Stakeout even when the parent started it with the
/// signal ignored.
/// </summary>
/// <remarks>
/// <para>
/// A non-interactive shell (a bash script, <c>cmd &amp;</c>) starts background commands with SIGINT and SIGQUIT set to
/// ignored, and .NET keeps an ignored signal ignored: its PosixSignalRegistration (which System.CommandLine uses to
/// cancel a command) then never fires, and `kill -INT` of a backgrounded `stakeout monitor` did nothing at all (issue 23,
/// finding 3). Every Stakeout command treats SIGINT as "stop cleanly", so, as Go's signal.Notify does when a program
/// asks for a signal, the inherited "ignore" is put back to the default before the runtime installs its handler; the
/// runtime then installs its handler and the signal cancels the command like Ctrl-C in a terminal. This must run before
/// anything touches Console, Process or PosixSignalRegistration (the runtime installs its SIGINT handler, or keeps the
/// signal ignored, once, on first use).
/// </para>
/// <para>
/// SIGHUP is the same story one level up: <c>nohup stakeout monitor … &amp;</c> (and any supervisor that runs its
/// children under nohup) starts the monitor with SIGHUP ignored, and <c>kill -HUP</c> then never reloaded the model. The
/// runtime installs a SIGHUP handler only when a registration for it is first created, so <see cref="OnHangup"/> puts an
/// inherited "ignore" back to the default just before registering. That keeps nohup's promise: the registered handler
/// cancels the default action, so a hang-up reloads the model (as it does for sshd or nginx) and never ends the monitor.
/// Commands that do not reload leave SIGHUP as they inherited it.
/// </para>
/// </remarks>
internal static class Signals
{
    private const int SigHup = 1;
    private const int SigInt = 2;
    private const nint SigIgn = 1;

    /// <summary>Puts SIGINT back to its default disposition if it was inherited as ignored; true if it was.</summary>
    public static bool HonourInterruptIgnoredByParent() => RestoreDefaultIfIgnored(SigInt);

    /// <summary>
    /// Runs <paramref name="reload"/> on every SIGHUP, also when the process inherited SIGHUP as ignored (nohup); the
    /// signal never ends the process. Null on Windows, which has no SIGHUP. Dispose to stop handling it.
    /// </summary>
    public static PosixSignalRegistration? OnHangup(Action reload)
    {
        ArgumentNullException.ThrowIfNull(reload);
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        RestoreDefaultIfIgnored(SigHup);
        return PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx =>
        {
            ctx.Cancel = true;
            reload();
        });
    }

    private static bool RestoreDefaultIfIgnored(int signal)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return false;
        }

        // struct sigaction starts with the handler on Linux and macOS; 64 words cover its size on both.
        var current = new nint[64];
        if (SigAction(signal, null, current) != 0 || current[0] != SigIgn)
        {
            return false;
        }

        var defaults = new nint[64];
        return SigAction(signal, defaults, null) == 0;
    }

    [DllImport("libc", EntryPoint = "sigaction")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SigAction(int signal, [In] nint[]? action, [Out] nint[]? previous);
}
