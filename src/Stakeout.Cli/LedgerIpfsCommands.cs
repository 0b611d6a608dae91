using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Stakeout.Ledger.Ipfs;
using Stakeout.Ledger.Storage;

namespace Stakeout.Cli;

/// <summary>
/// The ledger's IPFS options and commands: <c>--ledger-replicate</c> on <c>ledger append</c> and <c>monitor --ledger</c>,
/// <c>ledger replicate</c> (push the queues now), and the IPFS source of <c>ledger verify --ipfs</c>. Wiring only: the
/// client, queues and stores are in Stakeout.Ledger.Ipfs (docs/ledger-ipfs.md).
/// </summary>
internal static class LedgerIpfsCommands
{
    private static readonly HttpClient Http = new() { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>The queues live beside the blocks, so a ledger directory moved elsewhere keeps what is still to push.</summary>
    public static string QueueDirectory(string ledgerDir) => Path.Combine(ledgerDir, "replication");

    public static Option<string?> ReplicateOption(string name = "--ledger-replicate") => new(name)
    {
        Description = "Also replicate every block and head to these IPFS nodes' RPC APIs (comma-separated, e.g. http://127.0.0.1:5001,http://10.0.0.2:5001) through a durable local queue; a node that is down catches up later.",
    };

    public static Option<string> IpnsKeyOption(string name = "--ledger-ipns-key") => new(name)
    {
        Description = "Name of the ledger's IPNS key on each node (created on first use; never the node's 'self').",
        DefaultValueFactory = _ => "stakeout-ledger",
    };

    /// <summary>Parses a comma-separated list of node API addresses; the error names the option and the entry.</summary>
    public static IReadOnlyList<Uri> ParseNodes(string text, string option)
    {
        var nodes = new List<Uri>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(part, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"{option}: '{part}' is not an IPFS RPC API address such as http://127.0.0.1:5001.");
            }

            nodes.Add(uri);
        }

        if (nodes.Count == 0)
        {
            throw new ArgumentException($"{option}: give at least one IPFS RPC API address, e.g. http://127.0.0.1:5001.");
        }

        return nodes;
    }

    public static KuboClient Client(Uri api) => new(api, Http);

    /// <summary>A replicator of the ledger in <paramref name="ledgerDir"/> to <paramref name="nodes"/> (its queues reopened).</summary>
    public static IpfsReplicator OpenReplicator(string ledgerDir, IBlockStore local, IReadOnlyList<Uri> nodes, string ipnsKey) =>
        new(local, [.. nodes.Select(Client)], new IpfsReplicatorOptions { QueueDirectory = QueueDirectory(ledgerDir), IpnsKeyName = ipnsKey });

    /// <summary>
    /// The block store and head to verify from an IPFS node: the checkpoint CID given, or the one the IPNS name resolves
    /// to on that node. The verifier hashes every block itself and names the record a wrong one belongs to.
    /// </summary>
    public static async Task<(IBlockStore Store, Cid Head)> OpenSourceAsync(string ipfs, string? checkpoint, string? ipns, CancellationToken cancel)
    {
        var api = ParseNodes(ipfs, "--ipfs");
        if (api.Count != 1)
        {
            throw new ArgumentException("--ipfs: give one node to verify from.");
        }

        if ((checkpoint is null) == (ipns is null))
        {
            throw new ArgumentException("--ipfs needs exactly one of --checkpoint CID or --ipns NAME.");
        }

        var client = Client(api[0]);
        Cid head;
        if (checkpoint is not null)
        {
            if (!Cid.TryParse(checkpoint, out head, out string? error))
            {
                throw new ArgumentException($"--checkpoint: '{checkpoint}' is not a CID ({error}).");
            }
        }
        else
        {
            head = await IpnsHeadPointer.ForName(client, ipns!).ResolveAsync(cancel).ConfigureAwait(false)
                ?? throw new ArgumentException($"--ipns: {ipns} has no record on {client.Name} (published from another node? give --checkpoint instead).");
        }

        return (new KuboBlockStore(client, readerChecksBlocks: true), head);
    }

    /// <summary>One line per node for stderr.</summary>
    public static string Describe(ReplicationStatus s) => string.Create(
        CultureInfo.InvariantCulture,
        $"{s.Node}: {s.Pending} pending, {s.Pushed} pushed{(s.IpnsName is null ? "" : $", IPNS {s.IpnsName}")}{(s.PublishedHead is null ? "" : $" -> {s.PublishedHead}")}{(s.LastError is null ? "" : $"; last error: {s.LastError}")}");

    /// <summary>After a command that wrote through a started replicator: waits a little for the queues, then says where each node stands.</summary>
    public static async Task FinishAsync(IpfsReplicator replicator, TimeSpan wait, CancellationToken cancel)
    {
        var status = await replicator.DrainAsync(wait, cancel).ConfigureAwait(false);
        foreach (var s in status)
        {
            Terminal.Err.WriteLine("ledger replicate " + Describe(s) + (s.Pending > 0 ? " (queued; `stakeout ledger replicate` or the next run pushes it)" : ""));
        }
    }

    /// <summary><c>stakeout ledger replicate DIR --ledger-replicate URLS</c>.</summary>
    public static Command CreateReplicate()
    {
        var dir = new Argument<string>("DIR") { Description = "The ledger directory." };
        var nodes = ReplicateOption();
        nodes.Required = true;
        var key = IpnsKeyOption();
        var json = new Option<bool>("--json") { Description = "Print each node's status as JSON on stdout." };
        var command = new Command(
            "replicate",
            """
            Push what the ledger's replication queues still hold to each IPFS node now (blocks in order, then the IPNS
            head), and print per node: pending, pushed, IPNS name and head, last error. Exit code 0 when every queue is
            empty, 1 when a node is still behind (its steps stay queued, nothing is lost).

            Examples:
              stakeout ledger replicate ledger/ --ledger-replicate http://127.0.0.1:5001
              stakeout ledger replicate ledger/ --ledger-replicate http://127.0.0.1:5001,http://10.0.0.2:5001 --json
            """)
        {
            dir, nodes, key, json,
        };
        command.SetAction((parse, cancel) => ReplicateAsync(parse.GetValue(dir)!, parse.GetValue(nodes)!, parse.GetValue(key)!, parse.GetValue(json), cancel));
        return command;
    }

    private static async Task<int> ReplicateAsync(string dir, string nodes, string key, bool json, CancellationToken cancel)
    {
        IReadOnlyList<Uri> apis;
        try
        {
            apis = ParseNodes(nodes, "--ledger-replicate");
        }
        catch (ArgumentException e)
        {
            Terminal.Err.WriteLine("error: " + e.Message);
            return 2;
        }

        if (!Directory.Exists(dir))
        {
            Terminal.Err.WriteLine($"error: the ledger directory {dir} does not exist.");
            return 2;
        }

        await using var replicator = OpenReplicator(dir, new DirectoryBlockStore(dir), apis, key);
        var status = await replicator.PushAllAsync(cancel).ConfigureAwait(false);
        foreach (var s in status)
        {
            Terminal.Err.WriteLine(Describe(s));
        }

        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(status.Select(s => new
            {
                node = s.Node,
                pending = s.Pending,
                pushed = s.Pushed,
                ipns = s.IpnsName,
                head = s.PublishedHead,
                last_error = s.LastError,
            })));
        }

        return status.All(s => s.Pending == 0) ? 0 : 1;
    }
}
