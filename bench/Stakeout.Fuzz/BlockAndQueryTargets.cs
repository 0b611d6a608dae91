using System.Net;
using System.Text;
using System.Text.Json;
using Stakeout.Dashboard;
using Stakeout.Ledger.Log;
using Stakeout.Ledger.Storage;

namespace Stakeout.Fuzz;

/// <summary>
/// A ledger block as any IPFS node may serve it: one block of a real log (records, leaf index or checkpoint, chosen by
/// the input's first byte) is replaced by the input and the whole log verified with the trusted key. The verifier must
/// return a report, never throw, and must fail whenever the block's bytes differ from the original.
/// </summary>
internal sealed class LedgerBlocksTarget : FuzzTarget
{
    private IReadOnlyDictionary<Cid, byte[]> _blocks = new Dictionary<Cid, byte[]>();
    private readonly List<Cid> _order = [];
    private byte[] _key = [];
    private Cid _head;

    public override string Name => "ledger-blocks";

    public override string Description => "any ledger block replaced by hostile bytes, then LedgerVerifier.VerifyAsync over the whole log";

    public override int MaxBytes => 64 * 1024;

    public override IReadOnlyList<byte[]> Tokens { get; } = Mutator.Tokens("\n", "{\"i\":", "stakeout-bundle ", "stakeout-prev ", "\u2014 ", "bafkrei", "\u0000\u0000\u0000\u0000");

    public override IReadOnlyList<byte[]> LoadCorpus(string sharedData, string repoRoot)
    {
        var ledger = SampleLedger.Build(recordsInRound: round => (round * 3) + 1, (round, i) => $"{{\"i\":{i},\"round\":{round}}}");
        _blocks = ledger.Blocks;
        _order.AddRange(ledger.Blocks.Keys.Order(Comparer<Cid>.Create((a, b) => string.CompareOrdinal(a.ToString(), b.ToString()))));
        _head = ledger.Head;
        _key = ledger.PublicKey;
        // Seeds: each block behind a selector byte that picks that block.
        return [.. _order.Select((c, i) => (byte[])[(byte)i, .. _blocks[c]])];
    }

    public override Outcome Run(byte[] input)
    {
        if (input.Length == 0)
        {
            return Outcome.Refused;
        }

        var target = _order[input[0] % _order.Count];
        byte[] replacement = input[1..];
        var store = new OneBlockReplaced(_blocks, target, replacement);
        var report = LedgerVerifier.VerifyAsync(store, _head, new VerifyOptions { TrustedKey = _key }, CancellationToken.None).GetAwaiter().GetResult();
        bool same = replacement.AsSpan().SequenceEqual(_blocks[target]);
        if (same != report.Ok)
        {
            throw new FuzzFinding(same ? $"the unchanged log failed: {report.Failure}" : $"block {target} replaced by {replacement.Length} other bytes and the log still verified");
        }

        return report.Ok ? Outcome.Accepted : Outcome.Refused;
    }

    private sealed class OneBlockReplaced(IReadOnlyDictionary<Cid, byte[]> blocks, Cid target, byte[] replacement) : IBlockStore
    {
        public string Name => "fuzz";

        public ValueTask<Cid> PutAsync(ReadOnlyMemory<byte> block, ulong codec, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<byte[]?> GetAsync(Cid cid, CancellationToken cancellationToken) =>
            ValueTask.FromResult(cid == target ? replacement : blocks.GetValueOrDefault(cid));
    }
}

/// <summary>
/// The dashboard's query parameters through its real HTTP stack: a dashboard on a loopback port, each input sent as
/// the query string of /api/alerts (or as the id of /api/alerts/{id}). Every answer must be 200 with JSON, 400 or 404
/// with a text reason; a 5xx, an invalid JSON body or a dashboard that stops answering is a finding.
/// </summary>
internal sealed class DashboardQueryTarget : FuzzTarget, IDisposable
{
    private DashboardServer? _server;
    private HttpClient? _http;

    public override string Name => "dashboard-query";

    public override string Description => "dashboard query parameters over HTTP (/api/alerts?class=&src=&severity=&limit=, /api/alerts/{id})";

    public override int MaxBytes => 4096;

    public override IReadOnlyList<byte[]> Tokens { get; } = Mutator.Tokens("class=", "src=", "severity=", "limit=", "&", "%", "%00", "%zz", "%C3%A9", "+", "192.168.", "DoS", "0", "-1", "99999999999999999999", "<script>");

    public override IReadOnlyList<byte[]> LoadCorpus(string sharedData, string repoRoot)
    {
        var state = new DashboardState(new DashboardLimits(), TimeProvider.System);
        state.DeclareClasses(["DoS", "WebAttack"]);
        for (int i = 0; i < 50; i++)
        {
            state.Add(new DashboardAlert
            {
                Timestamp = DateTimeOffset.UnixEpoch.AddSeconds(1_700_000_000 + i),
                Signature = i % 2 == 0 ? "DoS" : "WebAttack",
                Category = i % 2 == 0 ? "DoS" : "WebAttack",
                SourceIp = $"192.168.10.{i}",
                Severity = 1 + (i % 3),
                Score = 0.9,
            });
        }

        var options = new DashboardOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0) }.Validate();
        _server = DashboardServer.Create(options, state, null, null, new DashboardRunInfo("fuzz"));
        _server.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        _http = new HttpClient { BaseAddress = _server.Url, Timeout = TimeSpan.FromSeconds(10) };
        return [.. new[] { "class=DoS", "src=192.168.10.&severity=2", "limit=5", "class=WebAttack&src=192.168.10.1&severity=1&limit=500", "", "\u0001" + "17", "\u000142" }.Select(Encoding.UTF8.GetBytes)];
    }

    public override Outcome Run(byte[] input)
    {
        // A leading 0x01 selects the detail endpoint; the rest is percent-encoded except the query's own syntax
        // (and '%' itself, so malformed escapes reach the server too).
        bool detail = input.Length > 0 && input[0] == 1;
        var text = new StringBuilder(detail ? "/api/alerts/" : "/api/alerts?");
        foreach (byte b in detail ? input.AsSpan(1) : input)
        {
            char c = (char)b;
            bool keep = char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' || (!detail && c is '=' or '&' or '%' or '+');
            text.Append(keep ? c.ToString() : "%" + b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }

        using var response = _http!.GetAsync(new Uri(text.ToString(), UriKind.Relative)).GetAwaiter().GetResult();
        int status = (int)response.StatusCode;
        string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        switch (status)
        {
            case 200:
                using (JsonDocument.Parse(body))
                {
                    return Outcome.Accepted;
                }

            case 400 or 404:
                return Outcome.Refused;
            default:
                throw new FuzzFinding($"HTTP {status} for {text}: {body[..Math.Min(200, body.Length)]}");
        }
    }

    public void Dispose()
    {
        _http?.Dispose();
        _server?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
