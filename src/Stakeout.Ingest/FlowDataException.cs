namespace Stakeout.Ingest;

/// <summary>
/// Flow data that cannot be read: a file that is not a flow CSV, a header without required features, or (in strict mode)
/// a bad row. The message names the file, the line and the field.
/// </summary>
public sealed class FlowDataException : Exception
{
    /// <summary>Creates the exception.</summary>
    public FlowDataException(string file, long line, string? field, string reason)
        : base(Format(file, line, field, reason))
    {
        File = file;
        Line = line;
        Field = field;
        Reason = reason;
    }

    /// <summary>Creates the exception with the error that caused it (a decompression failure, for instance).</summary>
    public FlowDataException(string file, long line, string? field, string reason, Exception? innerException)
        : base(Format(file, line, field, reason), innerException)
    {
        File = file;
        Line = line;
        Field = field;
        Reason = reason;
    }

    /// <summary>The file (or archive entry) at fault.</summary>
    public string File { get; }

    /// <summary>1-based line number; 0 when the problem is the file as a whole.</summary>
    public long Line { get; }

    /// <summary>The column name, when one field is at fault.</summary>
    public string? Field { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Reason { get; }

    private static string Format(string file, long line, string? field, string reason)
    {
        string where = line > 0 ? $"{file}:{line}" : file;
        return field is null ? $"{where}: {reason}" : $"{where}: field '{field}': {reason}";
    }
}
