namespace Stakeout.Detection;

/// <summary>
/// <c>file:PATH</c>: reads a CSV and then follows it as it grows, like <c>tail -f</c>. It survives rotation (the path
/// now names a new file: the rest of the old file is read, then the new one from its start, whose header is checked
/// again) and truncation (the file shrank: it is read again from its start). A partial last line is held until its
/// newline arrives; one cut off by rotation or truncation is counted as <c>incomplete_line</c>.
/// </summary>
public sealed class FileTailSource : IFlowSource
{
    private const int PrefixBytes = 4096;
    private readonly string _path;
    private readonly TimeSpan _poll;
    private readonly bool _follow;

    /// <summary>Follows <paramref name="path"/>, checking for growth every <paramref name="poll"/>; with <paramref name="follow"/> false, reads to the end once.</summary>
    public FileTailSource(string path, TimeSpan poll, bool follow = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(poll, TimeSpan.Zero);
        _path = path;
        _poll = poll;
        _follow = follow;
    }

    /// <inheritdoc />
    public string Name => $"file:{_path}";

    /// <inheritdoc />
    public async Task RunAsync(FlowSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var stream = context.OpenTextStream(Name);
        var buffer = new byte[64 * 1024];
        var file = await OpenWhenPresentAsync(context).ConfigureAwait(false);
        if (file is null)
        {
            await stream.CompleteAsync().ConfigureAwait(false);
            return;
        }

        byte[] prefix = [];
        try
        {
            while (!stream.Stopped)
            {
                int n = await file.ReadAsync(buffer, CancellationToken.None).ConfigureAwait(false);
                if (n > 0)
                {
                    if (prefix.Length < PrefixBytes)
                    {
                        int take = Math.Min(PrefixBytes - prefix.Length, n);
                        prefix = [.. prefix, .. buffer.AsSpan(0, take)];
                    }

                    await stream.WriteAsync(buffer.AsMemory(0, n)).ConfigureAwait(false);
                    continue;
                }

                if (!_follow || context.Stopping.IsCancellationRequested)
                {
                    break;
                }

                // At the end of what is written: wait, then look for truncation or rotation.
                try
                {
                    await Task.Delay(_poll, context.Time, context.Stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                var change = Inspect(file, prefix);
                if (change == Change.Truncated)
                {
                    Log.FileChanged(context.Logger, Name, "truncated; reading it again from the start");
                    file.Position = 0;
                    prefix = [];
                    await stream.RestartAsync().ConfigureAwait(false);
                }
                else if (change == Change.Rotated)
                {
                    // Rows appended to the old file before the rename are read first.
                    while ((n = await file.ReadAsync(buffer, CancellationToken.None).ConfigureAwait(false)) > 0)
                    {
                        await stream.WriteAsync(buffer.AsMemory(0, n)).ConfigureAwait(false);
                    }

                    await file.DisposeAsync().ConfigureAwait(false);
                    Log.FileChanged(context.Logger, Name, "rotated; following the new file");
                    file = await OpenWhenPresentAsync(context).ConfigureAwait(false);
                    prefix = [];
                    await stream.RestartAsync().ConfigureAwait(false);
                    if (file is null)
                    {
                        break;
                    }
                }
            }
        }
        finally
        {
            if (file is not null)
            {
                await file.DisposeAsync().ConfigureAwait(false);
            }
        }

        await stream.CompleteAsync().ConfigureAwait(false);
    }

    private enum Change
    {
        None,
        Truncated,
        Rotated,
    }

    private Change Inspect(FileStream file, byte[] prefix)
    {
        if (file.Length < file.Position)
        {
            return Change.Truncated;
        }

        FileStream? current;
        try
        {
            current = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            // Renamed away and not yet re-created: keep reading the old file until the new one appears.
            return Change.None;
        }

        using (current)
        {
            if (current.Length < file.Position)
            {
                return Change.Rotated;
            }

            // Same length or longer: a different file shows different first bytes (the path no longer names our file).
            int compare = (int)Math.Min(prefix.Length, current.Length);
            var head = new byte[compare];
            current.ReadExactly(head);
            return head.AsSpan().SequenceEqual(prefix.AsSpan(0, compare)) ? Change.None : Change.Rotated;
        }
    }

    private async Task<FileStream?> OpenWhenPresentAsync(FlowSourceContext context)
    {
        while (true)
        {
            try
            {
                return new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
            }
            catch (FileNotFoundException) when (_follow)
            {
                try
                {
                    await Task.Delay(_poll, context.Time, context.Stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return null;
                }
            }
        }
    }
}
