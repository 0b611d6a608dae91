using System.Net;
using Stakeout.Cluster;
using Stakeout.Core;
using Stakeout.Ledger.Checkpoints;
using Stakeout.Ledger.Log;
using Stakeout.Ledger.Records;
using Stakeout.Ledger.Storage;

namespace Stakeout.Fuzz;

/// <summary>
/// One EVE alert line as the ledger reads it (`ledger append`, the ledger writer): refused only as
/// <see cref="EveFormatException"/>; an accepted alert must also build its canonical STIX record.
/// </summary>
internal sealed class LedgerRecordTarget : FuzzTarget
{
    private readonly StixRecordBuilder _builder = new("fuzz");

    public override string Name => "ledger-record";

    public override string Description => "EVE alert line into a threat record (EveObservationReader, StixRecordBuilder)";

    public override int MaxBytes => 64 * 1024;

    public override IReadOnlyList<byte[]> Tokens { get; } = Mutator.Tokens("\"event_type\":\"alert\"", "\"alert\":", "\"score\":", "\"severity\":", "\\ud800", "\\u0000", "1e309", "-1", "null", "\"src_ip\":\"::1\"", "\"count\":0", "+0000");

    public override IReadOnlyList<byte[]> LoadCorpus(string sharedData, string repoRoot) =>
        [.. Files(Path.Combine(repoRoot, "tests", "Stakeout.Ledger.Tests", "TestData"), "alerts.json").SelectMany(File.ReadAllLines).Where(l => l.Length > 0).Select(System.Text.Encoding.UTF8.GetBytes)];

    public override Outcome Run(byte[] input)
    {
        ThreatObservation? observation;
        try
        {
            if (!EveObservationReader.TryRead(input, "fuzz", 1, out observation))
            {
                return Outcome.Refused;
            }
        }
        catch (EveFormatException)
        {
            return Outcome.Refused;
        }

        try
        {
            _ = _builder.Serialize(observation!);
        }
        catch (ArgumentException)
        {
            // The builder's documented refusal of a value STIX cannot carry.
            return Outcome.Refused;
        }

        return Outcome.Accepted;
    }
}

/// <summary>A checkpoint note as read from a block (any IPFS node's): refused only as <see cref="CheckpointFormatException"/>.</summary>
internal sealed class LedgerCheckpointTarget : FuzzTarget
{
    public override string Name => "ledger-checkpoint";

    public override string Description => "signed checkpoint note (CheckpointNote.Parse, signature check)";

    public override int MaxBytes => 64 * 1024;

    public override IReadOnlyList<byte[]> Tokens { get; } = Mutator.Tokens("\n\n", "\u2014 ", "stakeout-bundle ", "stakeout-range ", "stakeout-prev - 0", "stakeout-time ", "stakeout.ledger/v1/", " ", "-1", "99999999999999999999");

    public override IReadOnlyList<byte[]> LoadCorpus(string sharedData, string repoRoot)
    {
        // Real notes written by the log itself: a first checkpoint and two that link back, with several bundles.
        var ledger = SampleLedger.Build(recordsInRound: round => (round * 4) + 1, (round, i) => $"{{\"round\":{round},\"i\":{i}}}");
        _publicKey = ledger.PublicKey;
        return [.. ledger.Checkpoints.Select(c => ledger.Blocks[c])];
    }

    private byte[] _publicKey = new byte[32];

    public override Outcome Run(byte[] input)
    {
        try
        {
            var parsed = CheckpointNote.Parse(input);
            _ = CheckpointNote.VerifySignature(parsed, _publicKey);
            return Outcome.Accepted;
        }
        catch (CheckpointFormatException)
        {
            return Outcome.Refused;
        }
    }
}

/// <summary>
/// A flow batch message from the NATS flow stream: refused only as <see cref="InvalidDataException"/>, and an accepted
/// batch must encode back to the very bytes (one encoding per batch, so a worker scores what the sensor sent).
/// </summary>
internal sealed class FlowBatchTarget : FuzzTarget
{
    public override string Name => "flow-batch";

    public override string Description => "NATS flow batch message (FlowBatchCodec.Decode, canonical re-encoding)";

    public override int MaxBytes => 256 * 1024;

    public override IReadOnlyList<byte[]> Tokens { get; } = Mutator.Tokens("SKFB", "\u0001\u0000", "\u00ff\u00ff\u00ff\u00ff", "\u0000\u0000\u0001\u0000", "\u0004", "\u0006");

    public override IReadOnlyList<byte[]> LoadCorpus(string sharedData, string repoRoot)
    {
        var corpus = new List<byte[]>();
        foreach (bool identity in new[] { false, true })
        {
            int rows = identity ? 4 : 2;
            var batch = new FlowBatch(rows, identity) { Count = rows };
            for (int r = 0; r < rows; r++)
            {
                for (int f = 0; f < FeatureSchema.Count; f++)
                {
                    batch.Features[(r * FeatureSchema.Count) + f] = (r * 31) + (f * 0.5f);
                }

                batch.Lines[r] = 2 + r;
                if (identity)
                {
                    batch.Identities![r] = r == 3 ? FlowIdentity.Empty : new FlowIdentity(
                        IpAddressValue.From(IPAddress.Parse(r == 1 ? "2001:db8::1" : "172.16.0.1")), 40000 + r,
                        IpAddressValue.From(IPAddress.Parse("192.168.10.50")), 80, 6, new DateTime(2017, 7, 7, 15, 56, r, DateTimeKind.Utc));
                    batch.FlowIds![r] = r == 2 ? null : $"172.16.0.1-192.168.10.50-{40000 + r}-80-6";
                }
            }

            corpus.Add(FlowBatchCodec.Encode("dmz-1", "dmz-1.run.7", "flows.csv", batch, 0, rows));
        }

        return corpus;
    }

    public override Outcome Run(byte[] input)
    {
        FlowMessage m;
        try
        {
            m = FlowBatchCodec.Decode(input);
        }
        catch (InvalidDataException)
        {
            return Outcome.Refused;
        }

        byte[] again = FlowBatchCodec.Encode(m.Sensor, m.BatchId, m.Stream, m.Flows, 0, m.Flows.Count);
        if (!again.AsSpan().SequenceEqual(input))
        {
            throw new FuzzFinding($"an accepted batch of {input.Length} bytes re-encodes to {again.Length} other bytes");
        }

        return Outcome.Accepted;
    }
}

/// <summary>
/// A small real ledger for the fuzz targets' seeds: written by <see cref="LedgerLog"/> in a temporary directory (three
/// signed checkpoints, records blocks of at most 3), then held in memory: every block by CID, the checkpoints in order,
/// the head and the signer's public key.
/// </summary>
internal sealed record SampleLedger(IReadOnlyDictionary<Cid, byte[]> Blocks, IReadOnlyList<Cid> Checkpoints, Cid Head, byte[] PublicKey)
{
    private static readonly DateTimeOffset SampleTime = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static SampleLedger Build(Func<int, int> recordsInRound, Func<int, int, string> record)
    {
        string dir = Directory.CreateTempSubdirectory("stakeout-fuzz-ledger-").FullName;
        try
        {
            // A fixed key and a fixed clock: the same seeds, byte for byte, in every run, so a run under one --seed is
            // reproducible (Ed25519 signatures are deterministic). A fresh key and the current time made the accepted
            // count vary from run to run.
            using var signer = new Ed25519.InMemorySigner(System.Security.Cryptography.SHA256.HashData("stakeout fuzz sample ledger"u8));
            var store = new DirectoryBlockStore(dir);
            var log = LedgerLog.OpenAsync(store, new FileHeadPointer(dir), signer, new LedgerLogOptions { Sensor = "fuzz", MaxBundleRecords = 3 }, new FixedClock(SampleTime), CancellationToken.None).AsTask().GetAwaiter().GetResult();
            var checkpoints = new List<Cid>();
            for (int round = 0; round < 3; round++)
            {
                for (int i = 0; i < recordsInRound(round); i++)
                {
                    log.Append(System.Text.Encoding.UTF8.GetBytes(record(round, i)));
                }

                checkpoints.Add(log.CommitAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult()!.CheckpointCid);
            }

            var blocks = store.BlockFiles().ToDictionary(f => Cid.Parse(Path.GetFileName(f)), File.ReadAllBytes);
            return new SampleLedger(blocks, checkpoints, checkpoints[^1], signer.PublicKey);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>A clock that always reads the same instant.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
