using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Stakeout.Detection;

/// <summary>
/// Hot reload: when asked (<see cref="RequestReload"/>, wired to SIGHUP by the CLI) or when the artifact file changes,
/// loads the new artifact, verifies it (integrity, trial scoring, features every open stream provides) and only then
/// swaps it into the running pipeline between two batches. A bad artifact is logged and counted; the current model stays.
/// </summary>
public sealed class ModelReloader : IDisposable
{
    private readonly DetectionPipeline _pipeline;
    private readonly Func<ModelHandle> _load;
    private readonly string _path;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly FileSystemWatcher? _watcher;

    /// <summary>
    /// Reloads <paramref name="path"/> into <paramref name="pipeline"/> with <paramref name="load"/> (which verifies);
    /// with <paramref name="watch"/>, also whenever the file is written or replaced.
    /// </summary>
    public ModelReloader(DetectionPipeline pipeline, string path, Func<ModelHandle> load, bool watch, ILogger? logger = null)
    {
        _pipeline = pipeline ?? throw new ArgumentNullException(nameof(pipeline));
        _load = load ?? throw new ArgumentNullException(nameof(load));
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _path = Path.GetFullPath(path);
        _logger = logger ?? NullLogger.Instance;
        if (watch)
        {
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(_path)!, Path.GetFileName(_path))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            _watcher.Changed += (_, _) => RequestReload();
            _watcher.Created += (_, _) => RequestReload();
            _watcher.Renamed += (_, _) => RequestReload();
            _watcher.EnableRaisingEvents = true;
        }
    }

    /// <summary>Reloads done.</summary>
    public int Succeeded { get; private set; }

    /// <summary>Reloads refused.</summary>
    public int Refused { get; private set; }

    /// <summary>The last refusal's reason.</summary>
    public string? LastProblem { get; private set; }

    /// <summary>Asks for a reload (thread-safe; several requests close together become one).</summary>
    public void RequestReload() => _signal.Release();

    /// <summary>Serves reload requests until <paramref name="stop"/>; file events are debounced by <paramref name="settle"/>.</summary>
    public async Task RunAsync(TimeSpan settle, TimeProvider time, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(time);
        try
        {
            while (true)
            {
                await _signal.WaitAsync(stop).ConfigureAwait(false);

                // Writers replace a file in several steps; wait until events stop, then read it once.
                await Task.Delay(settle, time, stop).ConfigureAwait(false);
                while (_signal.CurrentCount > 0)
                {
                    await _signal.WaitAsync(stop).ConfigureAwait(false);
                }

                TryReload();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    /// <summary>Loads, verifies and swaps now; false (with <see cref="LastProblem"/>) when the artifact is refused.</summary>
    public bool TryReload()
    {
        ModelHandle candidate;
        try
        {
            candidate = _load();
        }
#pragma warning disable CA1031 // Any failure to load means "keep the current model"; it is logged and counted, never thrown into the pipeline.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _pipeline.Counters.AddReload(false);
            return Refuse(ex.Message);
        }

        if (!_pipeline.TryReload(candidate, out var problem))
        {
            return Refuse(problem!);
        }

        Succeeded++;
        Log.Reloaded(_logger, _path, candidate.Sha256 ?? "-");
        return true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _watcher?.Dispose();
        _signal.Dispose();
    }

    private bool Refuse(string problem)
    {
        Refused++;
        LastProblem = problem;
        Log.ReloadRefused(_logger, _path, problem);
        return false;
    }
}
