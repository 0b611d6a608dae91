using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Stakeout.Cluster;
using Stakeout.Detection;
using Stakeout.Ledger.Checkpoints;
using Stakeout.Ledger.Crypto;
using Stakeout.Ledger.Ipfs;
using Stakeout.Ledger.Log;
using Stakeout.Ledger.Records;
using Stakeout.Ledger.Storage;
using Stakeout.Models;

namespace Stakeout.Cli;

/// <summary>
/// `stakeout ledger append|show|verify|export` and the ledger sink of `monitor --ledger`: wiring only; the records, the
/// log, the proofs and the verifier live in Stakeout.Ledger.
/// </summary>
internal static partial class LedgerCommands
{
    /// <summary>Exit code of `ledger verify` (and show/export) when the log fails a check.</summary>
    public const int IntegrityFailure = 3;

    private const string ConfigFile = "ledger.json";
    private const string PublicKeyFile = "sensor.pub";

    public static Command Create()
    {
        var ledger = new Command("ledger", "The threat ledger: detected threats as signed, hash-linked, content-addressed STIX 2.1 records (docs/ledger.md).");
        ledger.Subcommands.Add(CreateAppend());
        ledger.Subcommands.Add(CreateVerify());
        ledger.Subcommands.Add(CreateShow());
        ledger.Subcommands.Add(CreateExport());
        ledger.Subcommands.Add(LedgerIpfsCommands.CreateReplicate());
        return ledger;
    }

    private static Argument<string> DirArgument() => new("DIR") { Description = "The ledger directory (blocks/, head, ledger.json, sensor.pub)." };

    private static Option<string?> TrustedKeyOption() => new("--trusted-key") { Description = "The sensor's Ed25519 public key (from `stakeout keys new`); without it the sensor.pub stored in DIR is used, with a warning." };

    private static Option<string?> CheckpointOption() => new("--checkpoint") { Description = "Verify from this checkpoint CID instead of DIR's head." };

    private static Option<string?> DecryptKeyOption() => new("--decrypt-key") { Description = "An X25519 private key (`stakeout keys new --x25519`) that opens sealed records sealed to it." };

    private static Command CreateAppend()
    {
        var dir = DirArgument();
        var input = new Argument<string>("INPUT") { Description = "EVE alerts, one JSON object a line (detect's or monitor's alerts.json); '-' reads stdin.", DefaultValueFactory = _ => "-" };
        var key = new Option<string>("--key", "-k") { Description = "The sensor's Ed25519 private key (mode 0600), from `stakeout keys new`.", Required = true };
        var sensor = new Option<string?>("--sensor") { Description = "The sensor's id in the log's origin (letters, digits, . _ -); default: the one DIR was created with, else the host name." };
        var recipients = new Option<string[]>("--recipient") { Description = "Seal each record to this X25519 public key (repeatable); the log commits to the ciphertext.", AllowMultipleArgumentsPerToken = false };
        var every = new Option<int>("--checkpoint-every") { Description = "Checkpoint (and fsync) at the latest after this many records.", DefaultValueFactory = _ => 2048 };
        var delay = new Option<double>("--checkpoint-ms") { Description = "Checkpoint at the latest this many milliseconds after the first record not yet durable.", DefaultValueFactory = _ => 200 };
        var giveUp = new Option<double>("--give-up-after") { Description = "Seconds of failing commits (a full disk, a read-only directory) before the run stops with exit 1; 0 retries for ever.", DefaultValueFactory = _ => 30 };
        var replicate = LedgerIpfsCommands.ReplicateOption();
        var ipnsKey = LedgerIpfsCommands.IpnsKeyOption();
        var command = new Command(
            "append",
            """
            Append alerts to the ledger as STIX 2.1 threat records (canonical JSON, RFC 8785), in batches under signed
            checkpoints. A record is acknowledged only once its checkpoint is durable (fsynced): stdout gets one line per
            checkpoint, `ack FIRST LAST CHECKPOINT_CID`, and after a crash every acknowledged record is in the log.
            Events that are not alerts are counted and skipped; a malformed line stops the run at that line (the records
            before it are committed) and names the file, line and field. A commit that fails (a full disk) is retried with
            backoff; after --give-up-after seconds without one succeeding the run stops with exit 1, saying how many
            records were acknowledged; the log stays valid up to its last checkpoint.

            Examples:
              stakeout ledger append ledger/ out/alerts.json --key ~/.stakeout/sensor.key --sensor edge-1
              tail -F out/alerts.json | stakeout ledger append ledger/ - --key sensor.key
              stakeout ledger append ledger/ alerts.json -k sensor.key --recipient soc.pub --recipient ir-team.pub
              stakeout ledger append ledger/ alerts.json -k sensor.key --ledger-replicate http://127.0.0.1:5001
            """)
        {
            dir, input, key, sensor, recipients, every, delay, giveUp, replicate, ipnsKey,
        };
        command.SetAction((parse, cancel) => AppendAsync(
            parse.GetValue(dir)!, parse.GetValue(input)!, parse.GetValue(key)!, parse.GetValue(sensor), parse.GetValue(recipients) ?? [],
            new AppenderOptions
            {
                CheckpointEvery = parse.GetValue(every),
                MaxDelay = TimeSpan.FromMilliseconds(parse.GetValue(delay)),
                GiveUpAfter = parse.GetValue(giveUp) > 0 ? TimeSpan.FromSeconds(parse.GetValue(giveUp)) : null,
            },
            new Replication(parse.GetValue(replicate), parse.GetValue(ipnsKey)!), cancel));
        return command;
    }

    private static Command CreateVerify()
    {
        var dir = DirArgument();
        var trusted = TrustedKeyOption();
        var checkpoint = CheckpointOption();
        var state = new Option<string?>("--state") { Description = "A file holding the newest checkpoint seen before: the log must extend it (rollback and fork check); updated after a successful run." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON on stdout." };
        var ipfs = new Option<string?>("--ipfs") { Description = "Read every block from this IPFS node's RPC API (e.g. http://127.0.0.1:5001) instead of DIR; needs --checkpoint or --ipns, and --trusted-key when no DIR is given." };
        var ipns = new Option<string?>("--ipns") { Description = "With --ipfs: verify from the checkpoint this IPNS name points at on that node." };
        dir.Arity = ArgumentArity.ZeroOrOne;
        var command = new Command(
            "verify",
            """
            Walk the whole log from one checkpoint with only the sensor's public key: every block against its CID, every
            checkpoint's signature, origin and order, every record against the signed leaf index, each checkpoint's root
            and compact range, the consistency of successive checkpoints, and each record's inclusion proof. With --state,
            also that the log has not been rolled back or forked since last seen. The first inconsistency is reported with
            the record, the block, the check, and expected against found. Exit code 3: the log fails a check.

            Examples:
              stakeout ledger verify ledger/ --trusted-key sensor.pub
              stakeout ledger verify ledger/ --trusted-key sensor.pub --state ~/.stakeout/edge-1.seen
              stakeout ledger verify ledger/ --trusted-key sensor.pub --checkpoint bafkrei...
              stakeout ledger verify --ipfs http://127.0.0.1:5001 --ipns k51qzi5uqu5d... --trusted-key sensor.pub
              stakeout ledger verify --ipfs http://10.0.0.2:5001 --checkpoint bafkrei... --trusted-key sensor.pub
            """)
        {
            dir, trusted, checkpoint, state, json, ipfs, ipns,
        };
        command.SetAction((parse, cancel) => VerifyAsync(parse.GetValue(dir), parse.GetValue(trusted), parse.GetValue(checkpoint), parse.GetValue(state), parse.GetValue(json), cancel, (parse.GetValue(ipfs), parse.GetValue(ipns))));
        return command;
    }

    private static Command CreateShow()
    {
        var dir = DirArgument();
        var trusted = TrustedKeyOption();
        var checkpoint = CheckpointOption();
        var decrypt = DecryptKeyOption();
        var json = new Option<bool>("--json") { Description = "Print each record (decoded; sealed ones opened with --decrypt-key) as one JSON line on stdout." };
        var command = new Command(
            "show",
            """
            Verify the log (as `verify` does) and print its records: index, detection time, class, score, addresses, flows,
            model. Sealed records are shown as sealed unless --decrypt-key opens them.

            Examples:
              stakeout ledger show ledger/ --trusted-key sensor.pub
              stakeout ledger show ledger/ --json --decrypt-key soc.key | jq .objects[-1].x_stakeout_score
            """)
        {
            dir, trusted, checkpoint, decrypt, json,
        };
        command.SetAction((parse, cancel) => ShowAsync(parse.GetValue(dir)!, parse.GetValue(trusted), parse.GetValue(checkpoint), parse.GetValue(decrypt), parse.GetValue(json), cancel));
        return command;
    }

    private static Command CreateExport()
    {
        var dir = DirArgument();
        var trusted = TrustedKeyOption();
        var checkpoint = CheckpointOption();
        var decrypt = DecryptKeyOption();
        var stix = new Option<string>("--stix") { Description = "Write the verified records as one STIX 2.1 bundle to this file.", Required = true };
        var command = new Command(
            "export",
            """
            Verify the log and write its records as one STIX 2.1 bundle: every record's objects, the shared ones (sensor
            identity, attack patterns, addresses) once. Sealed records are included only when --decrypt-key opens them.

            Examples:
              stakeout ledger export ledger/ --trusted-key sensor.pub --stix threats.json
            """)
        {
            dir, trusted, checkpoint, decrypt, stix,
        };
        command.SetAction((parse, cancel) => ExportAsync(parse.GetValue(dir)!, parse.GetValue(trusted), parse.GetValue(checkpoint), parse.GetValue(decrypt), parse.GetValue(stix)!, cancel));
        return command;
    }

    /// <summary>`stakeout keys new --x25519`: a recipient key pair for sealed records.</summary>
    public static int NewRecipientKeys(string directory, string name)
    {
        string privatePath = Path.Combine(directory, name + ".key");
        string publicPath = Path.Combine(directory, name + ".pub");
        foreach (string existing in new[] { privatePath, publicPath }.Where(File.Exists))
        {
            return Terminal.Fail($"{existing} already exists; keys are never overwritten (choose another --out or --name).");
        }

        try
        {
            Directory.CreateDirectory(directory);
            string id = RecipientKeys.Create(privatePath, publicPath);
            Console.WriteLine($"X25519 key id {id}");
            Console.WriteLine($"  private  {privatePath}  (mode 0600: keep it secret; open sealed records with --decrypt-key)");
            Console.WriteLine($"  public   {publicPath}  (give it to sensors: ledger append --recipient)");
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Terminal.Fail(e.Message);
        }
    }

    private sealed record LedgerConfig(string Sensor, string Origin, string PublicKey);

    /// <summary>DIR/ledger.json (the sensor and origin the ledger was created with), or null when there is none yet.</summary>
    private static async Task<LedgerConfig?> ReadConfigAsync(string dir, CancellationToken cancel)
    {
        string path = Path.Combine(dir, ConfigFile);
        return File.Exists(path)
            ? JsonSerializer.Deserialize<LedgerConfig>(await File.ReadAllTextAsync(path, cancel).ConfigureAwait(false), Json.Options)
            : null;
    }

    /// <summary>--ledger-replicate and --ledger-ipns-key as given (Nodes null: no replication).</summary>
    private sealed record Replication(string? Nodes, string IpnsKey);

    private sealed class ModelKeySigner(ModelSigningKey key) : ICheckpointSigner
    {
        public byte[] PublicKey { get; } = key.PublicKey;

        public byte[] Sign(ReadOnlySpan<byte> message) => key.Sign(message);
    }

    /// <summary>An opened ledger for appending, shared by `ledger append` and `monitor --ledger`.</summary>
    private sealed class Writer : IAsyncDisposable
    {
        private readonly ModelSigningKey _key;
        private readonly FileStream _lock;

        private Writer(ModelSigningKey key, FileStream writerLock, LedgerLog log, string sensor, IReadOnlyList<byte[]> recipients, IpfsReplicator? replicator)
        {
            _key = key;
            Sensor = sensor;
            _lock = writerLock;
            Replicator = replicator;
            Log = log;
            Builder = new StixRecordBuilder(sensor);
            Recipients = recipients;
        }

        public LedgerLog Log { get; }

        /// <summary>The sensor id of the log's origin.</summary>
        public string Sensor { get; }

        /// <summary>The sensor's Ed25519 public key (the one its checkpoints verify with).</summary>
        public byte[] PublicKey => _key.PublicKey;

        /// <summary>The IPFS replication of --ledger-replicate, or null.</summary>
        public IpfsReplicator? Replicator { get; }

        public StixRecordBuilder Builder { get; }

        public IReadOnlyList<byte[]> Recipients { get; }

        public byte[] Record(ThreatObservation observation)
        {
            byte[] record = Builder.Serialize(observation);
            return Recipients.Count == 0 ? record : RecordSealer.Seal(record, Recipients);
        }

        public static async Task<Writer> OpenAsync(string dir, string keyPath, string? sensor, IReadOnlyList<string> recipientFiles, CancellationToken cancel, Replication? replication = null)
        {
            IpfsReplicator? replicator = null;
            Stakeout.Ledger.Crypto.KeyFilePermissions.EnsurePrivate(keyPath);
            var key = ModelSigningKey.LoadPrivateKey(keyPath);
            FileStream? writerLock = null;
            try
            {
                var recipients = recipientFiles.Select(RecipientKeys.LoadPublic).ToList();
                Directory.CreateDirectory(dir);
                writerLock = LockForWriting(dir);
                string configPath = Path.Combine(dir, ConfigFile);
                LedgerConfig? config = await ReadConfigAsync(dir, cancel).ConfigureAwait(false);
                sensor ??= config?.Sensor ?? DefaultSensor();
                if (config is not null && config.Sensor != sensor)
                {
                    throw new ArgumentException($"{configPath}: this ledger belongs to sensor '{config.Sensor}', not '{sensor}'.");
                }

                var store = new DirectoryBlockStore(dir);
                var head = new FileHeadPointer(dir);
                int removed = store.RemoveTemporaryFiles();
                head.RemoveTemporaryFiles();
                if (removed > 0)
                {
                    await Console.Error.WriteLineAsync($"ledger: removed {removed} half-written block file(s) left by an interrupted run").ConfigureAwait(false);
                }

                IBlockStore blocks = store;
                IHeadPointer pointer = head;
                if (replication?.Nodes is { } nodes)
                {
                    // Blocks and heads go to the local directory first, then through durable queues to each IPFS node.
                    replicator = LedgerIpfsCommands.OpenReplicator(dir, store, LedgerIpfsCommands.ParseNodes(nodes, "--ledger-replicate"), replication.IpnsKey);
                    blocks = replicator.WrapBlocks();
                    pointer = replicator.WrapHead(head);
                    replicator.Start();
                }

                var log = await LedgerLog.OpenAsync(blocks, pointer, new ModelKeySigner(key), new LedgerLogOptions { Sensor = sensor }, TimeProvider.System, cancel).ConfigureAwait(false);
                if (config is null)
                {
                    await File.WriteAllTextAsync(configPath, JsonSerializer.Serialize(new LedgerConfig(sensor, log.Origin, Convert.ToBase64String(key.PublicKey)), Json.Options), cancel).ConfigureAwait(false);
                    key.SavePublicKey(Path.Combine(dir, PublicKeyFile));
                }

                return new Writer(key, writerLock, log, sensor, recipients, replicator);
            }
            catch
            {
                key.Dispose();
                writerLock?.Dispose();
                if (replicator is not null)
                {
                    await replicator.DisposeAsync().ConfigureAwait(false);
                }

                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            _key.Dispose();
            if (Replicator is not null)
            {
                // A node that is slow or down keeps its steps queued for `ledger replicate` or the next run.
                await LedgerIpfsCommands.FinishAsync(Replicator, TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
                await Replicator.DisposeAsync().ConfigureAwait(false);
            }

            await _lock.DisposeAsync().ConfigureAwait(false);
        }

        /// <summary>
        /// One writer per ledger: two appending at once would each sign a checkpoint over its own records and fork the
        /// log. An exclusive lock on DIR/writer.lock (released by the OS if the process dies) makes the second one fail.
        /// </summary>
        private static FileStream LockForWriting(string dir)
        {
            string path = Path.Combine(dir, "writer.lock");
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e)
            {
                throw new IOException($"{dir}: another process is writing this ledger (ledger append, monitor --ledger or ledger-writer hold {path}); one writer per ledger directory.", e);
            }
        }

        private static string DefaultSensor()
        {
            string name = new(Environment.MachineName.Where(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-').Take(64).ToArray());
            return name.Length > 0 ? name : "sensor";
        }
    }

    private static async Task<int> AppendAsync(string dir, string input, string keyPath, string? sensor, string[] recipientFiles, AppenderOptions options, Replication replication, CancellationToken cancel)
    {
        Writer writer;
        try
        {
            options.Validate();
            writer = await Writer.OpenAsync(dir, keyPath, sensor, recipientFiles, cancel, replication).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or LedgerStateException or UnauthorizedAccessException or JsonException or KuboException)
        {
            return Terminal.Fail(e.Message);
        }

        await using var _ = writer.ConfigureAwait(false);
        var stdout = Console.Out;
        long acknowledged = 0;
        var appender = new LedgerAppender(writer.Log, options, TimeProvider.System)
        {
            Committed = r =>
            {
                // The acknowledgement: printed only after the checkpoint is durable.
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ack {r.FirstIndex} {r.Checkpoint.Size - 1} {r.CheckpointCid}"));
                stdout.Flush();
                Interlocked.Add(ref acknowledged, r.Count);
            },
            CommitFailed = e => Console.Error.WriteLine($"ledger: commit failed, retrying: {e.Message}"),
        };
        await using var __ = appender.ConfigureAwait(false);
        appender.Start();
        long alerts = 0, skipped = 0, lineNumber = 0;
        string source = input == "-" ? "stdin" : input;
        int exit = 0;
        try
        {
            using var stream = input == "-" ? Console.OpenStandardInput() : File.OpenRead(input);
            using var reader = new StreamReader(stream, new UTF8Encoding(false, true));
            while (await reader.ReadLineAsync(cancel).ConfigureAwait(false) is { } line)
            {
                lineNumber++;
                if (line.Length == 0)
                {
                    skipped++;
                    continue;
                }

                if (!EveObservationReader.TryRead(Encoding.UTF8.GetBytes(line), source, lineNumber, out var observation))
                {
                    skipped++;
                    continue;
                }

                await appender.WriteAsync(writer.Record(observation!), cancel).ConfigureAwait(false);
                alerts++;
            }
        }
        catch (Exception e) when (e is EveFormatException or CanonicalJsonException or IOException or DecoderFallbackException or UnauthorizedAccessException)
        {
            exit = Terminal.Fail(e is DecoderFallbackException ? $"{source}:{lineNumber + 1}: not UTF-8" : e.Message);
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("ledger: interrupted; records not acknowledged above are not in the log").ConfigureAwait(false);
            return 130;
        }

        catch (ChannelClosedException e) when (e.InnerException is LedgerCommitException)
        {
            // The appender gave up (below, CompleteAsync rethrows the reason): stop reading.
        }

        try
        {
            await appender.CompleteAsync(cancel).ConfigureAwait(false);
        }
        catch (LedgerCommitException e)
        {
            await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"error: ledger {dir}: {e.Message}; {acknowledged} record(s) of this run acknowledged (durable, printed as ack lines), {alerts - acknowledged} not in the log (line {lineNumber} of {source} read); the log still holds {writer.Log.DurableSize} record(s) and verifies up to head {writer.Log.HeadCid?.ToString() ?? "(none)"}")).ConfigureAwait(false);
            return 1;
        }

        await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"ledger: {lineNumber} line(s) read from {source}: {alerts} alert(s) appended and acknowledged ({acknowledged} durable), {skipped} non-alert line(s) skipped; log {writer.Log.Origin} now holds {writer.Log.DurableSize} record(s), head {writer.Log.HeadCid}")).ConfigureAwait(false);
        return exit;
    }

    /// <summary>Where to read a log from and which key to trust; the IPFS side adds its own sources here.</summary>
    private static async Task<(IBlockStore Store, Cid Head, byte[] Key)> ResolveAsync(string? dir, string? trustedKey, string? checkpoint, CancellationToken cancel, (string? Ipfs, string? Ipns) remote = default)
    {
        if (remote.Ipns is not null && remote.Ipfs is null)
        {
            throw new ArgumentException("--ipns needs --ipfs (the node to resolve it on and read the blocks from).");
        }

        if (remote.Ipfs is not null && dir is null)
        {
            // From an IPFS node alone: only the public key the reader holds is trusted.
            byte[] trusted = ModelSigningKey.LoadPublicKey(trustedKey ?? throw new ArgumentException("--ipfs without a ledger directory needs --trusted-key (the sensor's public key)."));
            var (ipfsStore, ipfsHead) = await LedgerIpfsCommands.OpenSourceAsync(remote.Ipfs, checkpoint, remote.Ipns, cancel).ConfigureAwait(false);
            return (ipfsStore, ipfsHead, trusted);
        }

        if (dir is null)
        {
            throw new ArgumentException("give the ledger directory DIR, or --ipfs URL with --checkpoint CID or --ipns NAME.");
        }

        if (!Directory.Exists(dir))
        {
            throw new ArgumentException($"{dir}: no such ledger directory.");
        }

        byte[] key;
        if (trustedKey is not null)
        {
            key = ModelSigningKey.LoadPublicKey(trustedKey);
        }
        else
        {
            string stored = Path.Combine(dir, PublicKeyFile);
            if (!File.Exists(stored))
            {
                throw new ArgumentException($"no --trusted-key given and {stored} does not exist.");
            }

            key = ModelSigningKey.LoadPublicKey(stored);
            await Console.Error.WriteLineAsync($"warning: trusting the key stored in the ledger directory ({stored}, key id {Ed25519.KeyId(key)}); whoever can write the directory can replace it: pass --trusted-key with a key you hold.").ConfigureAwait(false);
        }

        if (remote.Ipfs is not null)
        {
            var (ipfsStore, ipfsHead) = await LedgerIpfsCommands.OpenSourceAsync(remote.Ipfs, checkpoint, remote.Ipns, cancel).ConfigureAwait(false);
            return (ipfsStore, ipfsHead, key);
        }

        Cid head;
        if (checkpoint is not null)
        {
            head = Cid.Parse(checkpoint);
        }
        else
        {
            head = await new FileHeadPointer(dir).ResolveAsync(cancel).ConfigureAwait(false)
                ?? throw new ArgumentException($"{dir}: the ledger is empty (no head checkpoint yet).");
        }

        return (new DirectoryBlockStore(dir), head, key);
    }

    private static async Task<int> VerifyAsync(string? dir, string? trustedKey, string? checkpoint, string? statePath, bool json, CancellationToken cancel, (string? Ipfs, string? Ipns) remote = default)
    {
        (IBlockStore Store, Cid Head, byte[] Key) source;
        Checkpoint? seen = null;
        try
        {
            source = await ResolveAsync(dir, trustedKey, checkpoint, cancel, remote).ConfigureAwait(false);
            if (statePath is not null && File.Exists(statePath))
            {
                var parsed = CheckpointNote.Parse(await File.ReadAllBytesAsync(statePath, cancel).ConfigureAwait(false));
                if (!CheckpointNote.VerifySignature(parsed, source.Key))
                {
                    return Terminal.Fail($"{statePath}: the seen checkpoint is not signed by the trusted key {Ed25519.KeyId(source.Key)}.");
                }

                seen = parsed.Checkpoint;
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or FormatException or CheckpointFormatException or KuboException)
        {
            return Terminal.Fail(e.Message);
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        VerificationReport report;
        try
        {
            report = await LedgerVerifier.VerifyAsync(source.Store, source.Head, new VerifyOptions { TrustedKey = source.Key, Seen = seen }, cancel).ConfigureAwait(false);
        }
        catch (KuboException e)
        {
            // The IPFS node failed mid-walk (down, timing out): not a verdict on the log, so not exit code 3.
            return Terminal.Fail(e.Message);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        if (json)
        {
            var f = report.Failure;
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                ok = report.Ok,
                head = report.HeadCid.ToString(),
                origin = report.Head?.Origin,
                size = report.Head?.Size,
                records_verified = report.RecordsVerified,
                checkpoints_verified = report.CheckpointsVerified,
                blocks_verified = report.BlocksVerified,
                rollback_checked = seen is not null,
                seconds,
                failure = f is null ? null : new { check = f.Check, record = f.RecordIndex, block = f.Block?.ToString(), message = f.Message, expected = f.Expected, found = f.Found },
            }, Json.Options));
        }

        if (!report.Ok)
        {
            Console.Error.WriteLine($"ledger verify: FAILED: {report.Failure}");
            return IntegrityFailure;
        }

        if (!json)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ok: {report.RecordsVerified} record(s), {report.CheckpointsVerified} checkpoint(s), {report.BlocksVerified} block(s) verified in {seconds:0.###} s; log {report.Head!.Origin}, size {report.Head.Size}, head {report.HeadCid}, root {Convert.ToBase64String(report.Head.Root)}"));
            Console.WriteLine(seen is null
                ? statePath is null
                    ? "rollback: not checked (no --state); pass --state FILE to remember this checkpoint and refuse an older one later"
                    : $"rollback: nothing seen before; this checkpoint is now remembered in {statePath}"
                : string.Create(CultureInfo.InvariantCulture, $"rollback: the log extends the checkpoint of size {seen.Size} seen before"));
        }

        if (statePath is not null)
        {
            byte[] note = (await source.Store.GetAsync(source.Head, cancel).ConfigureAwait(false))!;
            string temp = statePath + ".tmp";
            await File.WriteAllBytesAsync(temp, note, cancel).ConfigureAwait(false);
            File.Move(temp, statePath, overwrite: true);
        }

        return 0;
    }

    private static async Task<(int Exit, List<(long Index, byte[] Record)> Records)> ReadVerifiedAsync(string dir, string? trustedKey, string? checkpoint, CancellationToken cancel)
    {
        var records = new List<(long, byte[])>();
        (IBlockStore Store, Cid Head, byte[] Key) source;
        try
        {
            source = await ResolveAsync(dir, trustedKey, checkpoint, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or FormatException)
        {
            return (Terminal.Fail(e.Message), records);
        }

        var report = await LedgerVerifier.VerifyAsync(source.Store, source.Head, new VerifyOptions { TrustedKey = source.Key, OnRecord = (i, r) => records.Add((i, r)) }, cancel).ConfigureAwait(false);
        if (!report.Ok)
        {
            Console.Error.WriteLine($"ledger: FAILED verification: {report.Failure}");
            return (IntegrityFailure, records);
        }

        return (0, records);
    }

    private static async Task<int> ShowAsync(string dir, string? trustedKey, string? checkpoint, string? decryptKey, bool json, CancellationToken cancel)
    {
        string? error = null;
        using var key = decryptKey is null ? null : LoadRecipient(decryptKey, out error);
        if (decryptKey is not null && key is null)
        {
            return Terminal.Fail(error!);
        }

        var (exit, records) = await ReadVerifiedAsync(dir, trustedKey, checkpoint, cancel).ConfigureAwait(false);
        foreach (var (index, raw) in records)
        {
            byte[]? record = Decode(raw, key, out string? sealedNote);
            if (json)
            {
                Console.WriteLine(record is null
                    ? JsonSerializer.Serialize(new { index, @sealed = true, note = sealedNote })
                    : "{\"index\":" + index.ToString(CultureInfo.InvariantCulture) + ",\"record\":" + Encoding.UTF8.GetString(record) + "}");
                continue;
            }

            Console.WriteLine(record is null ? $"#{index} sealed ({sealedNote})" : $"#{index} {Summarise(record)}");
        }

        if (exit == 0)
        {
            await Console.Error.WriteLineAsync($"ledger: {records.Count} record(s), all verified").ConfigureAwait(false);
        }

        return exit;
    }

    private static async Task<int> ExportAsync(string dir, string? trustedKey, string? checkpoint, string? decryptKey, string output, CancellationToken cancel)
    {
        string? error = null;
        using var key = decryptKey is null ? null : LoadRecipient(decryptKey, out error);
        if (decryptKey is not null && key is null)
        {
            return Terminal.Fail(error!);
        }

        var (exit, records) = await ReadVerifiedAsync(dir, trustedKey, checkpoint, cancel).ConfigureAwait(false);
        if (exit != 0)
        {
            return exit;
        }

        var objects = new JsonArray();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        int sealedSkipped = 0;
        var idKey = new StringBuilder();
        foreach (var (_, raw) in records)
        {
            byte[]? record = Decode(raw, key, out _);
            if (record is null)
            {
                sealedSkipped++;
                continue;
            }

            if (JsonNode.Parse(record)?["objects"] is not JsonArray items)
            {
                continue;
            }

            foreach (var item in items.ToList())
            {
                idKey.Clear().Append((string?)item!["id"]).Append('|').Append((string?)item["modified"]);
                if (ids.Add(idKey.ToString()))
                {
                    objects.Add(item.DeepClone());
                }
            }
        }

        var bundle = new JsonObject
        {
            ["type"] = "bundle",
            ["id"] = "bundle--" + Uuid5.Create(Uuid5.Stakeout, "export\n" + string.Join('\n', records.Select(r => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(r.Record))))),
            ["objects"] = objects,
        };
        try
        {
            await File.WriteAllTextAsync(output, bundle.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n", cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Terminal.Fail(e.Message);
        }

        await Console.Error.WriteLineAsync($"ledger: {records.Count - sealedSkipped} verified record(s) exported as {objects.Count} STIX objects to {output}" + (sealedSkipped > 0 ? $"; {sealedSkipped} sealed record(s) left out (no --decrypt-key opens them)" : "")).ConfigureAwait(false);
        return 0;
    }

    private static RecipientKeys.PrivateKey? LoadRecipient(string path, out string? error)
    {
        try
        {
            error = null;
            return RecipientKeys.LoadPrivate(path);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            error = e.Message;
            return null;
        }
    }

    private static byte[]? Decode(byte[] raw, RecipientKeys.PrivateKey? key, out string? sealedNote)
    {
        sealedNote = null;
        if (!RecordSealer.IsSealed(raw))
        {
            return raw;
        }

        if (key is null)
        {
            sealedNote = "sealed; --decrypt-key opens it";
            return null;
        }

        try
        {
            return RecordSealer.Open(raw, key);
        }
        catch (SealedRecordException e)
        {
            sealedNote = e.Message;
            return null;
        }
    }

    private static string Summarise(byte[] record)
    {
        var objects = JsonNode.Parse(record)?["objects"] as JsonArray;
        var sighting = objects?.OfType<JsonObject>().LastOrDefault(o => (string?)o["type"] == "sighting");
        if (sighting is null)
        {
            return Encoding.UTF8.GetString(record);
        }

        var all = objects!;
        var traffic = all.OfType<JsonObject>().FirstOrDefault(o => (string?)o["type"] == "network-traffic");
        string Address(string? refId) => all.OfType<JsonObject>().FirstOrDefault(o => (string?)o["id"] == refId)?["value"]?.GetValue<string>() ?? "?";
        string who = traffic is null ? "(no addresses)" : $"{Address((string?)traffic["src_ref"])}:{traffic["src_port"]} -> {Address((string?)traffic["dst_ref"])}:{traffic["dst_port"]}";
        return string.Create(CultureInfo.InvariantCulture,
            $"{sighting["created"]} {sighting["x_stakeout_class"]} score {sighting["x_stakeout_score"]} {who} x{sighting["count"]} model {((string?)sighting["x_stakeout_model_sha256"])?[..12] ?? "-"}");
    }

    /// <summary>`monitor --ledger DIR --ledger-key KEY`: the options, and the sink that appends alerts as they happen.</summary>
    public static class MonitorLedger
    {
        private static readonly Option<string?> Dir = new("--ledger") { Description = "Also append every alert to the threat ledger in this directory (signed checkpoints; see `stakeout ledger`)." };
        private static readonly Option<string?> Key = new("--ledger-key") { Description = "The sensor's Ed25519 private key that signs the ledger's checkpoints (required with --ledger)." };
        private static readonly Option<string?> Sensor = new("--ledger-sensor") { Description = "The sensor id in the ledger's origin (default: the ledger's, else the host name)." };
        private static readonly Option<string[]> Recipients = new("--ledger-recipient") { Description = "Seal each ledger record to this X25519 public key (repeatable)." };
        private static readonly Option<string?> Replicate = LedgerIpfsCommands.ReplicateOption();
        private static readonly Option<string> IpnsKey = LedgerIpfsCommands.IpnsKeyOption();

        public static void AddTo(Command command)
        {
            command.Options.Add(Dir);
            AddWriterOptionsTo(command);
        }

        /// <summary>
        /// The signing and sealing options without --ledger, for `ledger-writer`, whose --ledger is its own (required).
        /// --ledger-key is required there: the ledger writer always writes the signed ledger.
        /// </summary>
        public static void AddWriterOptionsTo(Command command)
        {
            command.Options.Add(Key);
            command.Options.Add(Sensor);
            command.Options.Add(Recipients);
            command.Options.Add(Replicate);
            command.Options.Add(IpnsKey);
        }

        /// <summary>
        /// Opens the threat ledger in <paramref name="dir"/> as the ledger writer's alert store (signed checkpoints,
        /// sealed records with --ledger-recipient, IPFS replication with --ledger-replicate). The sensor id of the log's
        /// origin is --ledger-sensor, else <paramref name="sensorFilter"/>, else the ledger's own, else the host name.
        /// Disposing the result disposes the store and then the writer (which finishes replication).
        /// </summary>
        public static async Task<(LedgerAlertStore Store, IAsyncDisposable Owner)> OpenAlertStoreAsync(ParseResult parse, string dir, string? sensorFilter, CancellationToken cancel)
        {
            string key = parse.GetValue(Key) ?? throw new ArgumentException("ledger-writer needs --ledger-key (the Ed25519 private key that signs the ledger's checkpoints; `stakeout keys new`).");
            var writer = await Writer.OpenAsync(dir, key, parse.GetValue(Sensor) ?? sensorFilter, parse.GetValue(Recipients) ?? [], cancel, new Replication(parse.GetValue(Replicate), parse.GetValue(IpnsKey)!)).ConfigureAwait(false);
            try
            {
                var store = LedgerAlertStore.Open(dir, writer.Log, writer.Record);
                return (store, new StoreOwner(store, writer));
            }
            catch
            {
                await writer.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        /// <summary>
        /// The sinks with the ledger sink added when --ledger is given, and the dashboard's view of that ledger (null
        /// without --ledger): each record the sink appends is registered there, so the alert detail finds and verifies it.
        /// </summary>
        public static async Task<(IReadOnlyList<IAlertSink> Sinks, DashboardLedger? Ledger)> AddSinkAsync(ParseResult parse, IReadOnlyList<IAlertSink> sinks, CancellationToken cancel)
        {
            string? dir = parse.GetValue(Dir);
            if (dir is null)
            {
                return (sinks, null);
            }

            string key = parse.GetValue(Key) ?? throw new ArgumentException("--ledger needs --ledger-key (the sensor's Ed25519 private key).");
            var writer = await Writer.OpenAsync(dir, key, parse.GetValue(Sensor), parse.GetValue(Recipients) ?? [], cancel, new Replication(parse.GetValue(Replicate), parse.GetValue(IpnsKey)!)).ConfigureAwait(false);
            var view = DashboardLedger.ForWriter(dir, writer.Log, writer.PublicKey, writer.Sensor);
            return ([.. sinks, new LedgerAlertSink(writer, view)], view);
        }
    }

    private sealed class StoreOwner(LedgerAlertStore store, Writer writer) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            store.Dispose();
            await writer.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Appends alerts to the ledger. The sink runner gives it its own buffer and retries, so detection never waits for
    /// the disk; the appender checkpoints by count and time. The alert goes through its EVE line, so the records equal
    /// those `ledger append` makes from the same alerts.json.
    /// </summary>
    private sealed class LedgerAlertSink : IAlertSink
    {
        private readonly Writer _writer;
        private readonly LedgerAppender _appender;
        private readonly DashboardLedger _view;
        private long _next;
        private long _unreadable;

        public LedgerAlertSink(Writer writer, DashboardLedger view)
        {
            _writer = writer;
            _view = view;
            // One producer into the appender's FIFO, and one writer per ledger: the n-th record written gets index Size + n.
            _next = writer.Log.Size;
            _appender = new LedgerAppender(writer.Log, new AppenderOptions(), TimeProvider.System)
            {
                CommitFailed = e => Console.Error.WriteLine($"ledger: commit failed, retrying: {e.Message}"),
            };
            _appender.Start();
        }

        public string Name => "ledger";

        public async ValueTask WriteAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(alerts);
            foreach (var alert in alerts)
            {
                string line = EveWriter.ToJson(alert);
                if (EveObservationReader.TryRead(Encoding.UTF8.GetBytes(line), "monitor", alert.Line, out var observation))
                {
                    await _appender.WriteAsync(_writer.Record(observation!), cancellationToken).ConfigureAwait(false);
                    _view.Register(observation!, _next++);
                }
                else
                {
                    // Cannot happen for an alert the pipeline wrote; if it ever does, it is counted and said, not lost quietly.
                    _unreadable++;
                    await Console.Error.WriteLineAsync($"ledger: the alert of {alert.Stream} line {alert.Line} did not read back as an EVE alert; not appended").ConfigureAwait(false);
                }
            }
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public async ValueTask DisposeAsync()
        {
            await _appender.CompleteAsync(CancellationToken.None).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"ledger: {_writer.Log.DurableSize} record(s) in {_writer.Log.Origin}, head {_writer.Log.HeadCid}{(_unreadable > 0 ? $"; {_unreadable} alert(s) not appended (unreadable)" : "")}").ConfigureAwait(false);
            await _appender.DisposeAsync().ConfigureAwait(false);
            await _writer.DisposeAsync().ConfigureAwait(false);
        }
    }
}
