using System.Net;
using System.Net.Sockets;
using Stakeout.Core;
using Stakeout.FlowMeter.Flows;
using Stakeout.FlowMeter.Streaming;

namespace Stakeout.Integration.Tests;

/// <summary>Live capture through libpcap on the loopback interface, with traffic the test sends itself (needs root).</summary>
public sealed class LiveCaptureTests
{
    [SkippableFact]
    public async Task FlowFeed_Loopback_ReportsTheTcpConnectionTheTestMade()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && Environment.UserName == "root", "live capture needs root on Linux");
        Skip.IfNot(File.Exists("/sys/class/net/lo/operstate"), "no loopback interface 'lo'");

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var feed = new FlowFeed(
            FlowSource.Parse("iface:lo"),
            new FlowFeedOptions
            {
                Meter = new FlowMeterOptions { Mode = FlowMeterMode.Corrected },
                CaptureFilter = $"tcp port {port}",
                BatchSize = 1,
                MaxBatchDelay = TimeSpan.FromMilliseconds(200),
            });

        var found = new TaskCompletionSource<(FlowIdentity Identity, float Packets, float FwdBytes)>();
        var consumer = Task.Run(async () =>
        {
            await foreach (var batch in feed.ReadAsync(cts.Token))
            {
                for (int r = 0; r < batch.Count; r++)
                {
                    var id = batch.Identities![r];
                    if (id.DestinationPort == port)
                    {
                        var row = batch.Row(r);
                        found.TrySetResult((id, row[FeatureSchema.TotalFwdPackets] + row[FeatureSchema.TotalBackwardPackets], row[4]));
                    }
                }
            }
        });

        // Give libpcap a moment to attach, then talk until the flow shows up (bounded).
        for (int attempt = 0; attempt < 20 && !found.Task.IsCompleted; attempt++)
        {
            await Task.Delay(250, cts.Token);
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, cts.Token);
            using var server = await listener.AcceptTcpClientAsync(cts.Token);
            await client.GetStream().WriteAsync("hello stakeout"u8.ToArray(), cts.Token);
            var buffer = new byte[64];
            _ = await server.GetStream().ReadAsync(buffer, cts.Token);
            client.Close();
            server.Close();
            await Task.WhenAny(found.Task, Task.Delay(1000, cts.Token));
        }

        var (identity, packets, fwdBytes) = await found.Task.WaitAsync(cts.Token);
        await cts.CancelAsync();
        await consumer.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("127.0.0.1", identity.SourceIp.ToString());
        Assert.Equal((short)6, identity.Protocol);
        Assert.True(packets >= 6, $"a connect, 14 bytes and a close take at least 6 packets; saw {packets}");
        Assert.Equal(14f, fwdBytes);
    }
}
