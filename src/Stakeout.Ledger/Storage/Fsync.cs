using System.Runtime.InteropServices;

namespace Stakeout.Ledger.Storage;

/// <summary>
/// Makes a directory entry durable: after a rename, the new name survives a power cut only once the directory itself is
/// fsynced, which .NET has no API for (a directory cannot be opened as a FileStream), so libc is called directly.
/// </summary>
internal static partial class Fsync
{
    /// <summary>fsyncs <paramref name="directory"/> (no-op on Windows, where NTFS journals renames).</summary>
    public static void Directory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        int fd = Open(directory, 0);
        if (fd < 0)
        {
            throw new IOException($"{directory}: cannot open the directory to fsync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (FsyncFd(fd) != 0)
            {
                throw new IOException($"{directory}: fsync of the directory failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncFd(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
