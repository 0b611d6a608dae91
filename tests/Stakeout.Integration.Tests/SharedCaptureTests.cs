using Stakeout.FlowMeter;
using Stakeout.FlowMeter.Capture;
using Stakeout.FlowMeter.Flows;
using Stakeout.Ingest;

namespace Stakeout.Integration.Tests;

/// <summary>
/// The other real captures: they decode without a crash or a weird, and corrected mode yields one flow per TCP
/// conversation. Packet and conversation counts were checked by hand with tshark 4.0 (`capinfos -c`,
/// `tshark -q -z conv,tcp`).
/// </summary>
public sealed class SharedCaptureTests
{
    [SkippableTheory]
    [InlineData("pcap", "chrissanders_ppa1e_dosattack.pcap", 100, 100)]
    [InlineData("pcap", "chrissanders_ppa1e_portscan.pcap", 29, 29)]
    [InlineData("pcap", "chrissanders_synscan.pcapng", 2011, 1994)]
    [InlineData("pcap", "zeek_ftp-bruteforce.pcap", 606, 30)]
    [InlineData("pcap", "zeek_heartbleed.pcap", 23, 1)]
    [InlineData("cicflowmeter-pairs", "portscan.pcap", 29, 29)]
    public void CorrectedMode_RealCapture_OneFlowPerTcpConversation(string folder, string file, long packets, int conversations)
    {
        string path = SharedData.Path(folder, file);

        var flows = FlowExtraction.Read(path, new FlowMeterOptions { Mode = FlowMeterMode.Corrected }, out var weird);

        Assert.Equal(packets, weird.Records);
        Assert.Equal(packets, weird.Decoded);
        Assert.Equal(0, weird.Total);
        Assert.Equal(conversations, flows.Count);
        Assert.Equal(packets, flows.Sum(f => f.Packets));
    }

    [SkippableTheory]
    [InlineData("chrissanders_ppa1e_dosattack.pcap", 0)]   // 100 spoofed SYNs, none answered: all one-packet flows
    [InlineData("chrissanders_synscan.pcapng", 8)]         // 1994 probes, only the 8 with a second packet are kept by V4
    [InlineData("zeek_heartbleed.pcap", 2)]                // the first FIN splits the session, as in V4
    public void CicMode_RealCapture_DropsOnePacketFlowsLikeV4(string file, int expected)
    {
        var flows = FlowExtraction.Read(SharedData.Path("pcap", file), new FlowMeterOptions(), out var weird);

        Assert.Equal(expected, flows.Count);
        Assert.Equal(0, weird.Total);
        Assert.All(flows, f => Assert.True(f.Packets > 1));
    }

    [SkippableFact]
    public void Meter_TruncatedAndCorruptedRealCaptures_CountWeirdsNeverThrow()
    {
        var random = new Random(7);
        long weirds = 0;
        foreach (string path in Directory.GetFiles(SharedData.Path("pcap")).Concat(Directory.GetFiles(SharedData.Path("cicflowmeter-pairs"), "*.pcap")))
        {
            byte[] original = File.ReadAllBytes(path);
            for (int round = 0; round < 20; round++)
            {
                byte[] bytes = original[..random.Next(24, original.Length)];
                for (int i = 0; i < round; i++)
                {
                    bytes[random.Next(24, bytes.Length)] ^= (byte)random.Next(1, 256);
                }

                foreach (var mode in new[] { FlowMeterMode.CicFlowMeter, FlowMeterMode.Corrected })
                {
                    var meter = new PacketFlowMeter(new FlowMeterOptions { Mode = mode }, new NullSink());
                    using var reader = new CaptureReader(new MemoryStream(bytes), path, meter.Weird);
                    meter.ProcessAll(reader);
                    meter.Flush();
                    weirds += meter.Weird.Total;
                }
            }
        }

        Assert.True(weirds > 0);
    }

    [SkippableFact]
    public void FlowsCommand_WritesV4CsvThatStakeoutsReaderReads()
    {
        string capture = SharedData.Path("cicflowmeter-pairs", "ftp.pcap");
        string csv = Path.Combine(Path.GetTempPath(), $"stakeout-flows-{Guid.NewGuid():N}.csv");
        try
        {
            var (code, stdout, stderr) = CliInspectTests.Run("flows", capture, "-o", csv, "--mode", "cicflowmeter");

            Assert.True(code == 0, stderr);
            Assert.Contains("wrote 126 flows", stdout, StringComparison.Ordinal);
            Assert.Contains("cic_flow_meter_misread_frame", stdout, StringComparison.Ordinal);
            string[] header = File.ReadLines(csv).First().Split(',');
            Assert.Equal(84, header.Length);
            Assert.Equal(File.ReadLines(capture + "_Flow.csv").First(), string.Join(',', header));

            var read = new FlowCsvReader(new FlowReaderOptions()).Open([csv]);
            int rows = read.ReadBatches().Sum(b => b.Count);
            Assert.Equal(126, rows);
            Assert.Equal(126, read.Report.RowsUsed);
        }
        finally
        {
            File.Delete(csv);
        }
    }

    private sealed class NullSink : IFlowSink
    {
        public void OnFlow(in CompletedFlow flow)
        {
        }
    }
}
