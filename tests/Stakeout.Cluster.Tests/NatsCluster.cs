using System.Diagnostics;
using System.Globalization;
using Stakeout.TestSupport;

namespace Stakeout.Cluster.Tests;

/// <summary>
/// Real nats-server processes for a test: one server, or a cluster of N with JetStream on, each on free loopback ports
/// with its store in a temp directory, stopped (by their own process handles) when disposed. Skips the test with a
/// reason when nats-server is not installed (test.sh installs it).
/// </summary>
internal sealed class NatsCluster : IAsyncDisposable
{
    private readonly string _root;
    private readonly List<Node> _nodes = [];

    private NatsCluster(string root) => _root = root;

    /// <summary>The servers, n1..nN.</summary>
    public IReadOnlyList<Node> Nodes => _nodes;

    /// <summary>Every server's client URL, comma-separated (what --nats takes).</summary>
    public string Urls => string.Join(",", _nodes.Select(n => n.Url));

    /// <summary>Client URLs of the servers still running.</summary>
    public string LiveUrls => string.Join(",", _nodes.Where(n => !n.Process.HasExited).Select(n => n.Url));

    public static string? Binary { get; } = new[] { "/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server" }.FirstOrDefault(File.Exists);

    /// <summary>Starts <paramref name="size"/> servers (1 = no clustering) and waits until JetStream is ready on each.</summary>
    public static async Task<NatsCluster> StartAsync(int size)
    {
        Skip.If(Binary is null, "nats-server is not installed (./test.sh installs the Debian package nats-server).");
        var cluster = new NatsCluster(Directory.CreateTempSubdirectory("stakeout-nats-").FullName);
        var clientPorts = Enumerable.Range(0, size).Select(_ => LoopbackPort.Free()).ToArray();
        var routePorts = Enumerable.Range(0, size).Select(_ => LoopbackPort.Free()).ToArray();
        var httpPorts = Enumerable.Range(0, size).Select(_ => LoopbackPort.Free()).ToArray();
        for (int i = 0; i < size; i++)
        {
            string name = "n" + (i + 1).ToString(CultureInfo.InvariantCulture);
            var args = new List<string> { "-a", "127.0.0.1", "-p", P(clientPorts[i]), "-m", P(httpPorts[i]), "-n", name, "-js", "-sd", Path.Combine(cluster._root, name) };
            if (size > 1)
            {
                args.AddRange(["--cluster_name", "stakeout-test", "--cluster", "nats://127.0.0.1:" + P(routePorts[i]),
                    "--routes", string.Join(",", routePorts.Where((_, j) => j != i).Select(p => "nats://127.0.0.1:" + P(p)))]);
            }

            cluster._nodes.Add(new Node(name, clientPorts[i], httpPorts[i], args, Path.Combine(cluster._root, name + ".log")));
        }

        foreach (var node in cluster._nodes)
        {
            node.Start();
        }

        await WaitReadyAsync(cluster._nodes);
        return cluster;
    }

    /// <summary>Waits (bounded) until every running server answers /healthz with JetStream ready.</summary>
    public static async Task WaitReadyAsync(IEnumerable<Node> nodes)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        foreach (var node in nodes)
        {
            while (true)
            {
                Assert.False(node.Process.HasExited, $"nats-server {node.Name} exited: {node.Log()}");
                try
                {
                    using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{node.HttpPort}/healthz?js-enabled-only=true"));
                    if (response.IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
                catch (TaskCanceledException)
                {
                    // Slow machine: ask again.
                }

                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(90), $"nats-server {node.Name} not ready after 90 s: {node.Log()}");
                await Task.Delay(200);
            }
        }
    }

    /// <summary>The node named <paramref name="name"/>.</summary>
    public Node Get(string name) => _nodes.Single(n => n.Name == name);

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            node.Stop();
        }

        await Task.Yield();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A store file still being closed: the temp directory is left for the OS to clean.
        }
    }

    private static string P(int port) => port.ToString(CultureInfo.InvariantCulture);

    /// <summary>One nats-server process.</summary>
    internal sealed class Node(string name, int port, int httpPort, List<string> args, string logPath)
    {
        private Process? _process;

        public string Name { get; } = name;

        public int Port { get; } = port;

        public int HttpPort { get; } = httpPort;

        public string Url => "nats://127.0.0.1:" + P(Port);

        public Process Process => _process ?? throw new InvalidOperationException($"{Name} was not started.");

        public void Start()
        {
            var psi = new ProcessStartInfo(Binary!) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (string a in args.Concat(["-l", logPath]))
            {
                psi.ArgumentList.Add(a);
            }

            _process = Process.Start(psi)!;
        }

        /// <summary>Kills the server at once (SIGKILL), as a crash would.</summary>
        public void Kill()
        {
            if (_process is { HasExited: false })
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }

        public void Stop()
        {
            Kill();
            _process?.Dispose();
        }

        public string Log() => File.Exists(logPath) ? string.Join('\n', File.ReadLines(logPath).TakeLast(15)) : "(no log)";
    }
}
