using System.Runtime.InteropServices;

namespace Stakeout.Cli;

/// <summary>
/// Makes SIGINT reach Stakeout even when a shell started it with SIGINT ignored.
/// </summary>
/// <remarks>
/// A non-interactive shell (a bash script, <c>cmd &amp;</c>) starts background commands with SIGINT and SIGQUIT set to
/// ignored, and .NET keeps an ignored signal ignored: its PosixSignalRegistration (which System.CommandLine uses to
/// cancel a command) then never fires, and `kill -INT` of a backgrounded `stakeout monitor` did nothing at all (issue 23,
/// finding 3). Every Stakeout command treats SIGINT as "stop cleanly", so, as Go's signal.Notify does when a program
/// asks for a signal, the inherited "ignore" is put back to the default before the runtime installs its handler; the
/// runtime then installs its handler and the signal cancels the command like Ctrl-C in a terminal. This must run before
/// anything touches Console, Process or PosixSignalRegistration (the runtime decides once, on first use).
/// </remarks>
internal static class Signals
{
    private const int SigInt = 2;
    private const nint SigIgn = 1;

    /// <summary>Puts SIGINT back to its default disposition if it was inherited as ignored; true if it was.</summary>
    public static bool HonourInterruptIgnoredByParent()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return false;
        }

        // struct sigaction starts with the handler on Linux and macOS; 64 words cover its size on both.
        var current = new nint[64];
        if (SigAction(SigInt, null, current) != 0 || current[0] != SigIgn)
        {
            return false;
        }

        var defaults = new nint[64];
        return SigAction(SigInt, defaults, null) == 0;
    }

    [DllImport("libc", EntryPoint = "sigaction")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SigAction(int signal, [In] nint[]? action, [Out] nint[]? previous);
}
