namespace Stakeout.Detection;

/// <summary>
/// Where alerts go. Each sink runs behind its own bounded buffer and retry loop (<see cref="SinkRunner"/>), so a slow or
/// failing sink never stops detection: it is reported, retried with backoff, and its alerts are kept up to the buffer's
/// capacity (the overflow is counted). Implementations need not be thread-safe: one runner calls one sink.
/// </summary>
public interface IAlertSink : IAsyncDisposable
{
    /// <summary>The sink's registered name (console, eve, seed-logs, subscription, ...).</summary>
    string Name { get; }

    /// <summary>Writes alerts, in order. Throwing means none of them is considered written; the same list is retried.</summary>
    ValueTask WriteAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken);

    /// <summary>Makes written alerts durable/visible (called when the buffer runs empty and at the end).</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);
}

/// <summary>What a sink factory gets: where to write, and the run's settings.</summary>
public sealed record SinkSettings
{
    /// <summary>Directory for file sinks.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Where the console sink writes.</summary>
    public TextWriter Console { get; init; } = TextWriter.Null;

    /// <summary>An EVE file is rotated when it reaches this size. Default 100 MiB.</summary>
    public long EveMaxBytes { get; init; } = 100L << 20;

    /// <summary>Rotated EVE files kept (alerts.json.1 ... .N). Default 5.</summary>
    public int EveKeepFiles { get; init; } = 5;

    /// <summary>The pipeline's clock.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// Sinks by name, as registered modules: adding a sink touches no other sink. <see cref="CreateDefault"/> holds the
/// built-in ones; the dashboard and ledger subscribe through <see cref="AlertHub"/> ("subscription").
/// </summary>
public sealed class AlertSinkRegistry
{
    private readonly Dictionary<string, Func<SinkSettings, IAlertSink>> _factories = new(StringComparer.Ordinal);

    /// <summary>The built-in sinks: console, eve (alerts.json, rotated), seed-logs (malicious_ips.log).</summary>
    public static AlertSinkRegistry CreateDefault()
    {
        var registry = new AlertSinkRegistry();
        registry.Register("console", s => new ConsoleAlertSink(s.Console));
        registry.Register("eve", s => new EveFileSink(Path.Combine(s.OutputDirectory, "alerts.json"), s.EveMaxBytes, s.EveKeepFiles));
        registry.Register("seed-logs", s => new SeedLogSink(Path.Combine(s.OutputDirectory, "malicious_ips.log"), s.Time));
        return registry;
    }

    /// <summary>Registered names.</summary>
    public IReadOnlyCollection<string> Names => _factories.Keys;

    /// <summary>Registers (or replaces) a sink factory under <paramref name="name"/>.</summary>
    public void Register(string name, Func<SinkSettings, IAlertSink> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        _factories[name] = factory;
    }

    /// <summary>Creates the named sinks; an unknown name is an error listing the known ones.</summary>
    public IReadOnlyList<IAlertSink> Create(IEnumerable<string> names, SinkSettings settings)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(settings);
        var sinks = new List<IAlertSink>();
        foreach (var name in names)
        {
            if (!_factories.TryGetValue(name, out var factory))
            {
                throw new ArgumentException($"no alert sink named '{name}'; known sinks: {string.Join(", ", _factories.Keys.Order(StringComparer.Ordinal))}.", nameof(names));
            }

            sinks.Add(factory(settings));
        }

        return sinks;
    }
}
