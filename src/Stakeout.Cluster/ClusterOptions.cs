using System.Globalization;
using System.Text.RegularExpressions;

namespace Stakeout.Cluster;

/// <summary>How a stream keeps messages (JetStream retention).</summary>
public enum StreamRetention
{
    /// <summary>Kept until a limit (age, bytes, messages) removes the oldest.</summary>
    Limits,

    /// <summary>Removed once acknowledged by the one consumer group that reads it (the backlog only).</summary>
    WorkQueue,

    /// <summary>Removed once every consumer interested in it has acknowledged it.</summary>
    Interest,
}

/// <summary>Where a stream's messages are stored.</summary>
public enum StreamStorage
{
    /// <summary>On disk (survives a server restart).</summary>
    File,

    /// <summary>In memory.</summary>
    Memory,
}

/// <summary>What a full stream does with a new message.</summary>
public enum DiscardPolicy
{
    /// <summary>Refuses it: the publisher is told, waits and retries (back-pressure; nothing is lost silently).</summary>
    New,

    /// <summary>Deletes the oldest message to make room (it is lost if nobody has read it).</summary>
    Old,
}

/// <summary>A JetStream stream's limits and retention, validated once.</summary>
public sealed record StreamLimits
{
    /// <summary>Copies of each message across the cluster (1, 3 or 5; at most the number of servers).</summary>
    public int Replicas { get; init; } = 1;

    /// <summary>Retention policy.</summary>
    public StreamRetention Retention { get; init; } = StreamRetention.Limits;

    /// <summary>Storage.</summary>
    public StreamStorage Storage { get; init; } = StreamStorage.File;

    /// <summary>What happens when a limit is reached.</summary>
    public DiscardPolicy Discard { get; init; } = DiscardPolicy.New;

    /// <summary>Oldest message kept (zero: no age limit).</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Most bytes kept (-1: no limit).</summary>
    public long MaxBytes { get; init; } = -1;

    /// <summary>Most messages kept (-1: no limit).</summary>
    public long MaxMessages { get; init; } = -1;

    /// <summary>Window within which a second publish with the same <c>Nats-Msg-Id</c> is recognised and dropped.</summary>
    public TimeSpan DuplicateWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Checks every field; the message names the option.</summary>
    public StreamLimits Validate(string stream)
    {
        if (Replicas is < 1 or > 5)
        {
            throw new ArgumentException($"--replicas for {stream} must be 1 to 5; got {Replicas}.");
        }

        if (MaxAge < TimeSpan.Zero)
        {
            throw new ArgumentException($"--max-age for {stream} must not be negative.");
        }

        if (MaxBytes is 0 or < -1 || MaxMessages is 0 or < -1)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--max-bytes and --max-msgs for {stream} must be positive or -1 (no limit); got {MaxBytes} and {MaxMessages}."));
        }

        if (DuplicateWindow <= TimeSpan.Zero || (MaxAge > TimeSpan.Zero && DuplicateWindow > MaxAge))
        {
            throw new ArgumentException($"--dedup-window for {stream} must be positive and no longer than --max-age; got {DuplicateWindow}.");
        }

        return this;
    }
}

/// <summary>
/// Where the cluster is and how Stakeout uses it: stream and subject names, consumer names and delivery settings, and
/// how long to keep trying when NATS is unreachable. Validated once with an error naming the option.
/// </summary>
public sealed partial record ClusterOptions
{
    /// <summary>NATS server URLs (any of the cluster's servers; the client fails over between them).</summary>
    public IReadOnlyList<Uri> Servers { get; init; } = [new("nats://127.0.0.1:4222")];

    /// <summary>Stream of flow batches; one subject per sensor under <see cref="FlowSubjectPrefix"/>.</summary>
    public string FlowStream { get; init; } = "STAKEOUT_FLOWS";

    /// <summary>Flow subjects: <c>PREFIX.SENSOR</c>.</summary>
    public string FlowSubjectPrefix { get; init; } = "stakeout.flows";

    /// <summary>Stream of alerts; subject <c>PREFIX.SENSOR</c>.</summary>
    public string AlertStream { get; init; } = "STAKEOUT_ALERTS";

    /// <summary>Alert subjects.</summary>
    public string AlertSubjectPrefix { get; init; } = "stakeout.alerts";

    /// <summary>Stream of per-batch scoring results (which flows were scored, by which worker and model).</summary>
    public string ResultStream { get; init; } = "STAKEOUT_RESULTS";

    /// <summary>Result subjects.</summary>
    public string ResultSubjectPrefix { get; init; } = "stakeout.results";

    /// <summary>Limits of the flow stream (created by the first sensor).</summary>
    public StreamLimits FlowLimits { get; init; } = new() { Retention = StreamRetention.WorkQueue, MaxBytes = 1L << 30 };

    /// <summary>Limits of the alert and result streams (created by the first worker).</summary>
    public StreamLimits AlertLimits { get; init; } = new() { MaxAge = TimeSpan.FromDays(30) };

    /// <summary>The durable pull consumer the workers share.</summary>
    public string WorkerConsumer { get; init; } = "workers";

    /// <summary>The durable consumer of the ledger writer.</summary>
    public string LedgerConsumer { get; init; } = "ledger";

    /// <summary>How long a delivered, unacknowledged flow batch waits before it is redelivered to another worker.</summary>
    public TimeSpan AckWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Most unacknowledged batches in flight across all workers.</summary>
    public int MaxAckPending { get; init; } = 1000;

    /// <summary>Batches one worker pulls per request.</summary>
    public int FetchBatch { get; init; } = 4;

    /// <summary>Flows per published batch (sensor).</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Publishes a sensor keeps in flight before it waits for their acknowledgements.</summary>
    public int MaxPublishesInFlight { get; init; } = 32;

    /// <summary>How long to keep retrying a connection or an operation before failing with an error.</summary>
    public TimeSpan GiveUpAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>First retry delay; doubles up to <see cref="RetryMax"/>.</summary>
    public TimeSpan RetryInitial { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest retry delay.</summary>
    public TimeSpan RetryMax { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Time-out of one JetStream request (publish acknowledgement, API call).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often consumer lag is read and a status line logged.</summary>
    public TimeSpan StatusInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The servers as NATS.Net takes them.</summary>
    public string ServerList => string.Join(",", Servers.Select(s => s.ToString().TrimEnd('/')));

    /// <summary>Parses <c>nats://host:port[,nats://host:port...]</c> (the scheme may be left out after the first).</summary>
    public static IReadOnlyList<Uri> ParseServers(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        var list = new List<Uri>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string withScheme = part.Contains("://", StringComparison.Ordinal) ? part : "nats://" + part;
            if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) || uri.Scheme != "nats" || uri.Port <= 0 || string.IsNullOrEmpty(uri.Host))
            {
                throw new ArgumentException($"--nats takes nats://HOST:PORT (comma-separated for several servers); '{part}' is not one.");
            }

            list.Add(uri);
        }

        return list.Count > 0 ? list : throw new ArgumentException("--nats names no server.");
    }

    /// <summary>Checks every option; the message names the option.</summary>
    public ClusterOptions Validate()
    {
        if (Servers.Count == 0)
        {
            throw new ArgumentException("--nats names no server.");
        }

        foreach (var (name, value) in new[] { ("flow stream", FlowStream), ("alert stream", AlertStream), ("result stream", ResultStream), ("--consumer", WorkerConsumer), ("ledger consumer", LedgerConsumer) })
        {
            if (!NameToken().IsMatch(value))
            {
                throw new ArgumentException($"{name} '{value}' must be letters, digits, '-' or '_'.");
            }
        }

        FlowLimits.Validate(FlowStream);
        AlertLimits.Validate(AlertStream);
        Positive(AckWait, "--ack-wait");
        Positive(RequestTimeout, "request timeout");
        Positive(GiveUpAfter, "--give-up-after");
        Positive(RetryInitial, "retry delay");
        Positive(StatusInterval, "status interval");
        if (RetryMax < RetryInitial)
        {
            throw new ArgumentException("the longest retry delay must not be shorter than the first.");
        }

        if (BatchSize is < 1 or > 2048)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--batch-size must be 1 to 2048 flows (a batch is one NATS message, at most ~1 MiB); got {BatchSize}."));
        }

        if (FetchBatch is < 1 or > 256 || MaxAckPending < 1 || MaxPublishesInFlight is < 1 or > 1024)
        {
            throw new ArgumentException("--fetch must be 1 to 256, the ack-pending limit positive and publishes in flight 1 to 1024.");
        }

        return this;
    }

    /// <summary>True when <paramref name="id"/> can be one token of a subject (a sensor or worker id).</summary>
    public static bool IsToken(string id) => !string.IsNullOrEmpty(id) && id.Length <= 64 && NameToken().IsMatch(id);

    private static void Positive(TimeSpan value, string option)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{option} must be positive; got {value}.");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex NameToken();
}
