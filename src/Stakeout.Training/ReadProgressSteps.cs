using System.Globalization;
using Stakeout.Ingest;

namespace Stakeout.Training;

/// <summary>
/// Turns the reader's byte counts into the console's "reading NN %" lines, one per 10 % step. Thread-safe.
/// </summary>
public sealed class ReadProgressSteps
{
    private long _lastStep = -1;

    /// <summary>
    /// The share of the input read, as a whole percentage in 0..100. Files may grow while they are read (the reader opens
    /// them with <see cref="FileShare.ReadWrite"/>, e.g. a capture still being written), so bytes done can exceed the
    /// total measured at open time; that is reported as 100 %, never as a byte count or a share above 100.
    /// </summary>
    public static int Percent(long bytesDone, long bytesTotal)
    {
        if (bytesTotal <= 0 || bytesDone >= bytesTotal)
        {
            return 100;
        }

        if (bytesDone <= 0)
        {
            return 0;
        }

        // Double keeps bytesDone * 100 from overflowing on any file size; the floor keeps 100 for the end only.
        return (int)Math.Floor(bytesDone * 100.0 / bytesTotal);
    }

    /// <summary>The line to print for <paramref name="value"/>, or null when it is in the same 10 % step as the last one.</summary>
    public string? Next(ReadProgress value)
    {
        int percent = Percent(value.BytesDone, value.BytesTotal);
        long step = percent / 10;
        if (step == Interlocked.Exchange(ref _lastStep, step))
        {
            return null;
        }

        return string.Create(CultureInfo.InvariantCulture, $"  reading {step * 10,3} % · {Path.GetFileName(value.File)} · {value.RowsRead:N0} rows");
    }
}
