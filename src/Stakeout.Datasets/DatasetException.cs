namespace Stakeout.Datasets;

/// <summary>What went wrong while fetching a dataset, so the CLI can pick an exit code and say what to do.</summary>
public enum DatasetFailure
{
    /// <summary>The server could not be reached or the transfer kept failing.</summary>
    Transfer,

    /// <summary>The bytes are not what was expected: size, checksum or lock mismatch, or not an archive at all.</summary>
    Integrity,

    /// <summary>The archive is unsafe or broken: a path outside the target, a link, a zip bomb, a corrupt entry.</summary>
    UnsafeArchive,
}

/// <summary>A dataset could not be fetched or extracted; the message names the file or URL and what to do next.</summary>
public sealed class DatasetException : Exception
{
    public DatasetException(DatasetFailure failure, string message, Exception? inner = null)
        : base(message, inner)
    {
        Failure = failure;
    }

    public DatasetException()
    {
    }

    public DatasetException(string message)
        : base(message)
    {
    }

    public DatasetException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The kind of failure.</summary>
    public DatasetFailure Failure { get; }
}
