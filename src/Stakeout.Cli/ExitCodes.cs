using Stakeout.Ingest;
using Stakeout.Models;

namespace Stakeout.Cli;

/// <summary>
/// The exit codes every command uses (docs/user-guide.md, "Exit codes"): 0 success; 1 usage or a failed step (a missing
/// file, an option out of range); 2 input data that exists but cannot be used; 3 integrity (bytes that are not what they
/// claim: a tampered or unsigned artifact where a signature is required, a ledger or dataset that does not verify);
/// 4 a network transfer that failed after every retry.
/// </summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;
    public const int IntegrityFailed = 3;
    public const int TransferFailed = 4;

    /// <summary>The exit code for a command that stopped on <paramref name="ex"/>.</summary>
    public static int For(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return ex switch
        {
            ArtifactException { Problem: ArtifactProblem.Tampered or ArtifactProblem.BadSignature or ArtifactProblem.SignatureMissing } => IntegrityFailed,
            ArtifactException a when !File.Exists(a.Artifact) => Failed,
            ArtifactException => BadInput,
            // A path that does not exist is a usage error; a file that exists but is not usable flow data is bad input.
            FlowDataException f when !Exists(f.File) => Failed,
            FlowDataException => BadInput,
            InvalidDataException => BadInput,
            _ => Failed,
        };
    }

    /// <summary>True when <paramref name="path"/> names a file or directory (a zip entry by its archive), also written with backslashes, which the reader accepts.</summary>
    private static bool Exists(string path)
    {
        int bang = path.IndexOf('!', StringComparison.Ordinal);
        string file = bang > 0 && !File.Exists(path) ? path[..bang] : path;
        string slashed = file.Replace('\\', '/');
        return File.Exists(file) || Directory.Exists(file) || File.Exists(slashed) || Directory.Exists(slashed);
    }
}
