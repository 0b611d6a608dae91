using System.Diagnostics;
using System.Globalization;
using System.Text;
using Stakeout.Ledger.Checkpoints;
using Stakeout.Ledger.Log;
using Stakeout.Ledger.Records;
using Stakeout.Ledger.Storage;

// The threat ledger's throughput, end to end on this machine's disk, each figure beside its baseline in the same run:
//   appends: real alerts -> STIX record -> RFC 8785 bytes -> log, group-committed (signed checkpoint, fsync) every N;
//            baseline: one signed, fsynced checkpoint per record (what "sign every record" costs).
//   verify:  the whole log walked from its head (every block hash, signature, leaf, root, consistency, inclusion);
//            baseline: one Ed25519 verification per record (what per-record signatures would cost to check).
// Usage: Stakeout.LedgerBench [--records N] [--checkpoint-every N] [--dir DIR]
int records = 200_000, every = 4096;
string? dirArg = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--records": records = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--checkpoint-every": every = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--dir": dirArg = args[++i]; break;
        default: throw new ArgumentException($"unknown option {args[i]}");
    }
}

string root = dirArg ?? Directory.CreateTempSubdirectory("stakeout-ledger-bench-").FullName;
var alerts = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "alerts.json"))
    .Select((l, i) => { EveObservationReader.TryRead(Encoding.UTF8.GetBytes(l), "alerts.json", i + 1, out var o); return o!; })
    .ToArray();
var builder = new StixRecordBuilder("bench-1");
using var signer = new Ed25519.InMemorySigner();
var options = new LedgerLogOptions { Sensor = "bench-1" };
Console.WriteLine($"load {File.ReadAllText("/proc/loadavg").Trim()}; {Environment.ProcessorCount} cores; dir {root}");

ThreatObservation Observation(int i) => alerts[i % alerts.Length] with { FlowId = i, Timestamp = alerts[0].Timestamp.AddMilliseconds(i) };

// 1. Records alone (build + canonicalise), to show where an append's time goes.
var clock = new CpuClock();
long bytes = 0;
for (int i = 0; i < 50_000; i++)
{
    bytes += builder.Serialize(Observation(i)).Length;
}

Report("records: STIX build + RFC 8785, no log", 50_000, clock.Elapsed, $"{bytes / 50_000} bytes a record");

// 2. Baseline: a signed, durable checkpoint per record.
string naiveDir = Path.Combine(root, "per-record");
var naive = await LedgerLog.OpenAsync(new DirectoryBlockStore(naiveDir), new FileHeadPointer(naiveDir), signer, options, TimeProvider.System, CancellationToken.None);
int naiveCount = 200;
clock.Restart();
for (int i = 0; i < naiveCount; i++)
{
    naive.Append(builder.Serialize(Observation(i)));
    await naive.CommitAsync(CancellationToken.None);
}

Report("baseline appends: one signed fsynced checkpoint per record", naiveCount, clock.Elapsed, "");

// 3. Group commit through the appender, records built beforehand: the log's own rate (hash, pack, sign, fsync).
var prebuilt = Enumerable.Range(0, records).Select(i => builder.Serialize(Observation(i))).ToArray();
string preDir = Path.Combine(root, "prebuilt");
var preLog = await LedgerLog.OpenAsync(new DirectoryBlockStore(preDir), new FileHeadPointer(preDir), signer, options, TimeProvider.System, CancellationToken.None);
var preAppender = new LedgerAppender(preLog, new AppenderOptions { CheckpointEvery = every, MaxDelay = TimeSpan.FromMilliseconds(200) }, TimeProvider.System);
clock.Restart();
preAppender.Start();
foreach (byte[] record in prebuilt)
{
    await preAppender.WriteAsync(record, CancellationToken.None);
}

await preAppender.CompleteAsync(CancellationToken.None);
Report($"signed appends of built records: group commit, checkpoint every {every} (fsync)", records, clock.Elapsed, $"{preLog.DurableSize} durable");

// 3b. End to end: alert -> record -> log.
string logDir = Path.Combine(root, "log");
var log = await LedgerLog.OpenAsync(new DirectoryBlockStore(logDir), new FileHeadPointer(logDir), signer, options, TimeProvider.System, CancellationToken.None);
long commits = 0;
var appender = new LedgerAppender(log, new AppenderOptions { CheckpointEvery = every, MaxDelay = TimeSpan.FromMilliseconds(200) }, TimeProvider.System) { Committed = _ => commits++ };
clock.Restart();
appender.Start();
for (int i = 0; i < records; i++)
{
    await appender.WriteAsync(builder.Serialize(Observation(i)), CancellationToken.None);
}

await appender.CompleteAsync(CancellationToken.None);
Report($"signed appends: group commit, checkpoint every {every} (fsync)", records, clock.Elapsed, $"{commits} checkpoints, {log.DurableSize} durable");

// 4. Baseline: one Ed25519 verification per record.
byte[] message = builder.Serialize(Observation(0));
byte[] signature = signer.Sign(message);
int naiveVerify = 20_000;
clock.Restart();
for (int i = 0; i < naiveVerify; i++)
{
    if (!Ed25519.Verify(signer.PublicKey, message, signature))
    {
        throw new InvalidOperationException("signature");
    }
}

Report("baseline verify: one Ed25519 signature per record", naiveVerify, clock.Elapsed, "");

// 5. The whole log verified from its head.
var head = (await new FileHeadPointer(logDir).ResolveAsync(CancellationToken.None))!.Value;
clock.Restart();
var report = await LedgerVerifier.VerifyAsync(new DirectoryBlockStore(logDir), head, new VerifyOptions { TrustedKey = signer.PublicKey }, CancellationToken.None);
Report("verified records: full walk (blocks, signatures, leaves, every checkpoint's root and range from the rebuilt tree, consistency)", report.RecordsVerified, clock.Elapsed, report.Ok ? $"{report.CheckpointsVerified} checkpoints, {report.BlocksVerified} blocks" : "FAILED " + report.Failure);

// 5b. The same walk plus an explicit RFC 9162 inclusion proof of every record against the head (opt-in).
clock.Restart();
var proved = await LedgerVerifier.VerifyAsync(new DirectoryBlockStore(logDir), head, new VerifyOptions { TrustedKey = signer.PublicKey, CheckInclusionProofs = true }, CancellationToken.None);
Report("verified records, plus an inclusion proof of every record", proved.RecordsVerified, clock.Elapsed, proved.Ok ? "" : "FAILED " + proved.Failure);
Console.WriteLine($"load {File.ReadAllText("/proc/loadavg").Trim()}");
if (dirArg is null)
{
    Directory.Delete(root, recursive: true);
}

return report.Ok && proved.Ok ? 0 : 1;

void Report(string what, long count, (TimeSpan Wall, TimeSpan Cpu) elapsed, string note) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{what}: {count:N0} in {elapsed.Wall.TotalSeconds:0.000} s wall = {count / elapsed.Wall.TotalSeconds:N0}/s; {elapsed.Cpu.TotalSeconds:0.000} CPU s = {count / elapsed.Cpu.TotalSeconds:N0} per CPU second {note}"));

/// <summary>Wall time and this process's CPU time since the last restart: on a shared machine the CPU figure is the comparable one.</summary>
internal sealed class CpuClock
{
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private TimeSpan _cpu = Process.GetCurrentProcess().TotalProcessorTime;

    public (TimeSpan Wall, TimeSpan Cpu) Elapsed => (_wall.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - _cpu);

    public void Restart()
    {
        _wall.Restart();
        _cpu = Process.GetCurrentProcess().TotalProcessorTime;
    }
}
