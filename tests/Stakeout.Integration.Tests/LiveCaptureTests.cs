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

    [SkippableFact]
    public async Task FlowFeed_ConsumerStopsEarlyOnAQuietLink_CaptureStopsAndDisposalReturns()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && Environment.UserName == "root", "live capture needs root on Linux");
        Skip.IfNot(File.Exists("/sys/class/net/lo/operstate"), "no loopback interface 'lo'");

        using var receiver = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)receiver.Client.LocalEndPoint!).Port;
        var feed = new FlowFeed(
            FlowSource.Parse("iface:lo"),
            new FlowFeedOptions
            {
                Meter = new FlowMeterOptions { Mode = FlowMeterMode.Corrected, FlowTimeout = TimeSpan.FromSeconds(1), ActivityTimeout = TimeSpan.FromMilliseconds(500) },
                CaptureFilter = $"udp port {port}",
                BatchSize = 1,
                MaxBatchDelay = TimeSpan.FromMilliseconds(200),
            });

        // The consumer takes the first flow (a datagram's flow, ended by the 1 s flow timeout) and walks away without
        // cancelling anything. The link then stays quiet, so no further write would notice: disposal itself must stop
        // the capture thread, or it waits forever.
        var taken = new TaskCompletionSource();
        var firstFlow = Task.Run(async () =>
        {
            await foreach (var batch in feed.ReadAsync())
            {
                taken.TrySetResult();
                return batch.Count;
            }

            return 0;
        });
        using var sender = new UdpClient();
        // One datagram, then time for its flow to end (1 s flow timeout, clock advanced every 200 ms) before another is
        // tried (the capture may attach late): no datagram follows the flow that is taken, so no later write can end the
        // capture by running into the abandoned channel.
        for (int attempt = 0; attempt < 10 && !taken.Task.IsCompleted && !firstFlow.IsCompleted; attempt++)
        {
            await sender.SendAsync("ping"u8.ToArray(), new IPEndPoint(IPAddress.Loopback, port));
            await Task.WhenAny(taken.Task, firstFlow, Task.Delay(2_000));
        }

        // Nothing is sent any more: only the disposal itself can end the capture now.
        Assert.Equal(1, await firstFlow.WaitAsync(TimeSpan.FromSeconds(20)));
    }
}
