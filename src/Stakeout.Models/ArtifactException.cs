namespace Stakeout.Models;

/// <summary>Why a model artifact was refused.</summary>
public enum ArtifactProblem
{
    /// <summary>The file is not a Stakeout model artifact at all.</summary>
    NotAnArtifact,
    /// <summary>The file ends before the artifact does.</summary>
    Truncated,
    /// <summary>A byte changed since the artifact was written (a digest does not match).</summary>
    Tampered,
    /// <summary>The artifact's format version is one this Stakeout does not know.</summary>
    UnknownVersion,
    /// <summary>The structure is broken in a way a digest cannot explain (a hand-edited file, a writer bug).</summary>
    Malformed,
    /// <summary>A signature is present and does not verify, or its key is not trusted.</summary>
    BadSignature,
    /// <summary>A signature was required and the artifact has none.</summary>
    SignatureMissing,
    /// <summary>The model expects features or classes this Stakeout, or this data, does not have.</summary>
    SchemaIncompatible,
}

/// <summary>A model artifact that cannot be loaded; the message names the file, the problem and why.</summary>
public sealed class ArtifactException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ArtifactException(string source, ArtifactProblem problem, string detail)
        : base($"{source}: {Describe(problem)}: {detail}")
    {
        Artifact = source;
        Problem = problem;
    }

    /// <summary>The file (or stream name) at fault.</summary>
    public string Artifact { get; }

    /// <summary>What is wrong.</summary>
    public ArtifactProblem Problem { get; }

    private static string Describe(ArtifactProblem problem) => problem switch
    {
        ArtifactProblem.NotAnArtifact => "not a Stakeout model artifact",
        ArtifactProblem.Truncated => "truncated artifact",
        ArtifactProblem.Tampered => "tampered or corrupted artifact",
        ArtifactProblem.UnknownVersion => "unknown artifact format version",
        ArtifactProblem.Malformed => "malformed artifact",
        ArtifactProblem.BadSignature => "bad signature",
        ArtifactProblem.SignatureMissing => "unsigned artifact",
        ArtifactProblem.SchemaIncompatible => "schema-incompatible model",
        _ => problem.ToString(),
    };
}
