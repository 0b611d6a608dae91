using System.Text;
using Stakeout.Ledger.Checkpoints;
using Stakeout.Ledger.Log;
using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Tests;

/// <summary>A ledger in a temporary directory, signed by an in-memory key, with small bundles so a few records span several blocks.</summary>
internal sealed class LedgerFixture : IDisposable
{
    public LedgerFixture(int maxBundleRecords = 4)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("stakeout-ledger-test-").FullName;
        Store = new DirectoryBlockStore(Directory);
        Head = new FileHeadPointer(Directory);
        Options = new LedgerLogOptions { Sensor = "sensor-1", MaxBundleRecords = maxBundleRecords };
    }

    public string Directory { get; }

    public DirectoryBlockStore Store { get; }

    public FileHeadPointer Head { get; }

    public Ed25519.InMemorySigner Signer { get; } = new();

    public LedgerLogOptions Options { get; }

    public static byte[] Record(long i) => Encoding.UTF8.GetBytes($"{{\"i\":{i},\"type\":\"test-record\"}}");

    public Task<LedgerLog> OpenAsync() => LedgerLog.OpenAsync(Store, Head, Signer, Options, TimeProvider.System, CancellationToken.None).AsTask();

    /// <summary>Appends records [from, from + count), committing every <paramref name="commitEvery"/>; returns the checkpoint CIDs.</summary>
    public static async Task<List<Cid>> AppendAsync(LedgerLog log, long from, int count, int commitEvery)
    {
        var cids = new List<Cid>();
        for (long i = from; i < from + count; i++)
        {
            log.Append(Record(i));
            if ((i - from + 1) % commitEvery == 0)
            {
                cids.Add((await log.CommitAsync(CancellationToken.None))!.CheckpointCid);
            }
        }

        if (await log.CommitAsync(CancellationToken.None) is { } last)
        {
            cids.Add(last.CheckpointCid);
        }

        return cids;
    }

    public async Task<VerificationReport> VerifyAsync(byte[]? key = null, Checkpoint? seen = null, Action<long, byte[]>? onRecord = null, bool inclusionProofs = false)
    {
        var head = await Head.ResolveAsync(CancellationToken.None) ?? throw new InvalidOperationException("no head");
        var options = new VerifyOptions { TrustedKey = key ?? Signer.PublicKey, Seen = seen, OnRecord = onRecord, CheckInclusionProofs = inclusionProofs };
        return await LedgerVerifier.VerifyAsync(Store, head, options, CancellationToken.None);
    }

    public void Dispose()
    {
        Signer.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
