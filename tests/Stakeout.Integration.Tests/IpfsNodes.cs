using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Stakeout.TestSupport;

namespace Stakeout.Integration.Tests;

/// <summary>
/// Real IPFS nodes for tests: js-ipfs from <c>tools/ipfs</c> (installed by <c>./test.sh</c>), which serves the same
/// RPC API as Kubo. Each node gets a repository in a temp directory (<c>jsipfs init --profile test</c>), fixed
/// 127.0.0.1 ports chosen free at start, no bootstrap peers and no discovery, so nothing leaves the machine. Nodes are
/// stopped by their own process ID (also when a test fails) and their directories deleted. Tests check
/// <see cref="Unavailable"/> first and skip with its reason when node or the tool folder is missing.
/// </summary>
internal sealed class IpfsNodes : IAsyncDisposable
{
    private readonly string _root;

    private IpfsNodes(string root, IReadOnlyList<IpfsNode> nodes)
    {
        _root = root;
        Nodes = nodes;
    }

    public IReadOnlyList<IpfsNode> Nodes { get; }

    public IpfsNode this[int index] => Nodes[index];

    /// <summary>Why IPFS tests cannot run here, or null when they can.</summary>
    public static string? Unavailable { get; } = FindProblem();

    /// <summary>Inits and starts <paramref name="count"/> nodes (in parallel); with <paramref name="connect"/>, connects each to the first.</summary>
    public static async Task<IpfsNodes> StartAsync(int count, bool connect, CancellationToken cancellationToken)
    {
        if (Unavailable is not null)
        {
            throw new InvalidOperationException(Unavailable);
        }

        string root = Path.Combine(Path.GetTempPath(), "stakeout-ipfs-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var nodes = new List<IpfsNode>();
        var group = new IpfsNodes(root, nodes);
        try
        {
            for (int i = 0; i < count; i++)
            {
                nodes.Add(new IpfsNode(Path.Combine(root, ((char)('a' + i)).ToString()), ((char)('A' + i)).ToString()));
            }

            await Task.WhenAll(nodes.Select(n => n.InitAsync(cancellationToken))).ConfigureAwait(false);
            await Task.WhenAll(nodes.Select(n => n.StartAsync(cancellationToken))).ConfigureAwait(false);
            if (connect)
            {
                for (int i = 1; i < count; i++)
                {
                    await nodes[i].ConnectAsync(nodes[0], cancellationToken).ConfigureAwait(false);
                }
            }

            return group;
        }
        catch
        {
            await group.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.StopAsync().ConfigureAwait(false);
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A node that ignored SIGTERM and was killed may still hold a file for a moment; the temp dir is reclaimed later.
        }
    }

    internal static string ToolDirectory => Path.Combine(RepoRoot(), "tools", "ipfs");

    private static string? FindProblem()
    {
        string bin = Path.Combine(ToolDirectory, "node_modules", "ipfs", "src", "cli.js");
        if (!File.Exists(bin))
        {
            return $"js-ipfs is not installed in {ToolDirectory} (./test.sh installs it; by hand: cd tools/ipfs && npm ci).";
        }

        try
        {
            using var probe = Process.Start(new ProcessStartInfo("node", "--version") { RedirectStandardOutput = true, UseShellExecute = false })!;
            probe.WaitForExit(10_000);
            return probe.ExitCode == 0 ? null : "node --version failed; the IPFS test nodes need Node.js 20 or later.";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"node is not on PATH ({e.Message}); ./test.sh installs nodejs and npm.";
        }
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Stakeout.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException($"No Stakeout.slnx above {AppContext.BaseDirectory}.");
    }
}

/// <summary>One js-ipfs daemon on loopback: its repository, ports and process.</summary>
internal sealed class IpfsNode
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private Process? _process;
    private Task<string>? _output;

    public IpfsNode(string repo, string label)
    {
        Repo = repo;
        Label = label;
        ApiPort = LoopbackPort.Free();
        SwarmPort = LoopbackPort.Free();
    }

    public string Repo { get; }

    public string Label { get; }

    public int ApiPort { get; }

    public int SwarmPort { get; }

    public Uri Api => new($"http://127.0.0.1:{ApiPort.ToString(CultureInfo.InvariantCulture)}");

    public string? PeerId { get; private set; }

    public string SwarmAddress => $"/ip4/127.0.0.1/tcp/{SwarmPort.ToString(CultureInfo.InvariantCulture)}/p2p/{PeerId}";

    public bool IsRunning => _process is { HasExited: false };

    public int? ProcessId => _process?.Id;

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        var (code, output) = await RunToEndAsync(["init", "--profile", "test"], TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
        if (code != 0)
        {
            throw new InvalidOperationException($"jsipfs init of node {Label} in {Repo} exited with {code}:\n{output}");
        }

        string configPath = Path.Combine(Repo, "config");
        var config = JsonNode.Parse(await File.ReadAllTextAsync(configPath, cancellationToken).ConfigureAwait(false))!.AsObject();
        var addresses = config["Addresses"]!.AsObject();
        addresses["API"] = $"/ip4/127.0.0.1/tcp/{ApiPort}";
        addresses["Gateway"] = $"/ip4/127.0.0.1/tcp/{LoopbackPort.Free()}";
        addresses["RPC"] = $"/ip4/127.0.0.1/tcp/{LoopbackPort.Free()}";
        addresses["Swarm"] = new JsonArray($"/ip4/127.0.0.1/tcp/{SwarmPort}");
        config["Bootstrap"] = new JsonArray();
        await File.WriteAllTextAsync(configPath, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts the daemon and waits (at most 90 s) until <c>/api/v0/id</c> answers.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"IPFS node {Label} is already running (PID {_process!.Id}).");
        }

        var psi = Command(["daemon"]);
        _process = Process.Start(psi)!;
        _output = CollectAsync(_process);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"IPFS node {Label} exited with {_process.ExitCode} while starting:\n{await _output.ConfigureAwait(false)}");
            }

            try
            {
                using var response = await Http.PostAsync(new Uri(Api, "/api/v0/id"), null, cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    using var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
                    PeerId = id.RootElement.GetProperty("ID").GetString();
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The API accepted but did not answer within the probe's time-out: still starting.
            }

            await Task.Delay(250, cancellationToken).ConfigureAwait(false);
        }

        await StopAsync().ConfigureAwait(false);
        throw new TimeoutException($"IPFS node {Label} ({Api}) did not answer /api/v0/id within 90 s.");
    }

    /// <summary>Stops the daemon by its PID: SIGTERM (it closes its repository), then a kill after 15 s.</summary>
    public async Task StopAsync()
    {
        var process = _process;
        if (process is null)
        {
            return;
        }

        _process = null;
        using (process)
        {
            if (!process.HasExited)
            {
                using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])!;
                await kill.WaitForExitAsync().ConfigureAwait(false);
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                try
                {
                    await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync().ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>Connects this node to <paramref name="other"/> over the swarm (loopback).</summary>
    public async Task ConnectAsync(IpfsNode other, CancellationToken cancellationToken)
    {
        string arg = Uri.EscapeDataString(other.SwarmAddress);
        using var response = await Http.PostAsync(new Uri(Api, "/api/v0/swarm/connect?arg=" + arg), null, cancellationToken).ConfigureAwait(false);
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"IPFS node {Label} could not connect to {other.Label} at {other.SwarmAddress}: {body}");
        }
    }

    /// <summary>What the daemon printed so far (only after it stopped).</summary>
    public string Output => _output is { IsCompleted: true } ? _output.Result : "";

    private async Task<(int Code, string Output)> RunToEndAsync(string[] args, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var process = Process.Start(Command(args))!;
        var output = CollectAsync(process);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"jsipfs {string.Join(' ', args)} for node {Label} did not finish within {timeout.TotalSeconds} s.");
        }

        return (process.ExitCode, await output.ConfigureAwait(false));
    }

    private ProcessStartInfo Command(string[] args)
    {
        string tool = IpfsNodes.ToolDirectory;
        var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = tool };
        psi.ArgumentList.Add("--require");
        psi.ArgumentList.Add(Path.Combine(tool, "promise-with-resolvers.cjs"));
        psi.ArgumentList.Add(Path.Combine(tool, "node_modules", "ipfs", "src", "cli.js"));
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["IPFS_PATH"] = Repo;
        psi.Environment.Remove("NODE_OPTIONS");
        return psi;
    }

    private static async Task<string> CollectAsync(Process process)
    {
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
        return stdout.Result + stderr.Result;
    }
}
