using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Stakeout.FlowMeter;
using Stakeout.FlowMeter.Capture;
using Stakeout.FlowMeter.Decoding;
using Stakeout.FlowMeter.Flows;

// stakeout-flowmeter-bench make OUT.pcap REPEATS CAPTURE...   builds the large capture
// stakeout-flowmeter-bench run FILE.pcap [cicflowmeter|corrected] [runs]   meters it and prints packets/s
// stakeout-flowmeter-bench format FLOWS.csv [rounds]   the CSV writer's double formatting: .NET "R" against ShortestDouble
if (args.Length >= 3 && args[0] == "make")
{
    return Make(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), args[3..]);
}

if (args.Length >= 2 && args[0] == "decode")
{
    return DecodeOnly(args[1], args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3);
}

if (args.Length >= 2 && args[0] == "run")
{
    var mode = args.Length > 2 && args[2] == "corrected" ? FlowMeterMode.Corrected : FlowMeterMode.CicFlowMeter;
    int runs = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 3;
    return Run(args[1], mode, runs);
}

if (args.Length >= 2 && args[0] == "format")
{
    return Format(args[1], args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5);
}

Console.Error.WriteLine("usage: make OUT.pcap REPEATS CAPTURE... | run FILE.pcap [cicflowmeter|corrected] [runs] | format FLOWS.csv [rounds]");
return 2;

// Every non-integer feature value of a flow CSV (as `stakeout flows` wrote it), formatted by .NET's shortest round-trip
// ("R", the baseline) and by ShortestDouble, alternating, in the same process; the two outputs must be the same bytes.
static int Format(string csv, int rounds)
{
    var values = new List<double>();
    foreach (string line in File.ReadLines(csv).Skip(1))
    {
        string[] fields = line.Split(',');
        for (int i = 7; i < fields.Length - 1; i++)
        {
            if (fields[i].Contains('.', StringComparison.Ordinal) && double.TryParse(fields[i], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
            {
                values.Add(v);
            }
        }
    }

    var all = values.ToArray();
    var a = new byte[32];
    var b = new byte[32];
    long fallbacks = 0;
    foreach (double v in all)
    {
        v.TryFormat(a, out int na, "R", CultureInfo.InvariantCulture);
        if (!Stakeout.FlowMeter.Output.ShortestDouble.TryWrite(b, v, out int nb))
        {
            fallbacks++;
        }
        else if (!a.AsSpan(0, na).SequenceEqual(b.AsSpan(0, nb)))
        {
            Console.Error.WriteLine($"format: {v:R} written as {System.Text.Encoding.ASCII.GetString(b, 0, nb)}");
            return 1;
        }
    }

    Console.WriteLine($"format: {all.Length:N0} non-integer values from {csv}; all written alike; {fallbacks:N0} left to .NET (out of range)");
    for (int round = 1; round <= rounds; round++)
    {
        long bytes = 0;
        var clock = Stopwatch.StartNew();
        foreach (double v in all)
        {
            v.TryFormat(a, out int n, "R", CultureInfo.InvariantCulture);
            bytes += n;
        }

        double framework = clock.Elapsed.TotalSeconds;
        clock.Restart();
        foreach (double v in all)
        {
            if (!Stakeout.FlowMeter.Output.ShortestDouble.TryWrite(b, v, out int n))
            {
                v.TryFormat(b, out n, "R", CultureInfo.InvariantCulture);
            }

            bytes += n;
        }

        double own = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}: double.TryFormat \"R\" {framework * 1e9 / all.Length:F1} ns/value, ShortestDouble {own * 1e9 / all.Length:F1} ns/value, {framework / own:F2}x ({bytes} bytes)"));
    }

    return 0;
}

static int Make(string output, int repeats, string[] captures)
{
    // Every repetition shifts time past the previous one and moves every IPv4 address to another /16, so flows stay
    // distinct and timeouts behave as in a long capture. Only Ethernet IPv4 frames are kept.
    // Files are laid back to back (each rebased to start 1 s after the previous one ends) so the timeline stays short
    // enough for 32-bit pcap seconds however many repetitions are made.
    var frames = new List<(long Micros, byte[] Frame)>();
    long cursor = 0;
    foreach (string path in captures)
    {
        long fileFirst = -1, fileLast = 0;
        using var reader = CaptureReader.Open(path, new WeirdCounters());
        while (reader.TryRead(out var r))
        {
            if (fileFirst < 0)
            {
                fileFirst = r.TimestampMicros;
            }

            fileLast = Math.Max(fileLast, r.TimestampMicros);
            if (r.LinkType == 1 && r.Data.Length >= 34 && BinaryPrimitives.ReadUInt16BigEndian(r.Data[12..]) == 0x0800)
            {
                frames.Add((cursor + r.TimestampMicros - fileFirst, r.Data.ToArray()));
            }
        }

        cursor += fileLast - Math.Max(fileFirst, 0) + 1_000_000;
    }

    frames.Sort((a, b) => a.Micros.CompareTo(b.Micros));
    long first = frames[0].Micros;
    long span = frames[^1].Micros - first + 1_000_000;
    using var outStream = new BufferedStream(File.Create(output), 1 << 20);
    Span<byte> header = stackalloc byte[24];
    BinaryPrimitives.WriteUInt32LittleEndian(header, 0xA1B2C3D4);
    BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
    BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
    BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 262144);
    BinaryPrimitives.WriteUInt32LittleEndian(header[20..], 1);
    outStream.Write(header);
    Span<byte> rec = stackalloc byte[16];
    long count = 0;
    for (int k = 0; k < repeats; k++)
    {
        foreach (var (micros, original) in frames)
        {
            byte[] frame = (byte[])original.Clone();
            frame[14 + 12 + 1] ^= (byte)k;
            frame[14 + 12 + 2] ^= (byte)(k >> 8);
            frame[14 + 16 + 1] ^= (byte)k;
            frame[14 + 16 + 2] ^= (byte)(k >> 8);
            long t = micros - first + 1_600_000_000_000_000 + (k * span);
            BinaryPrimitives.WriteUInt32LittleEndian(rec, (uint)(t / 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(rec[4..], (uint)(t % 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(rec[8..], (uint)frame.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(rec[12..], (uint)frame.Length);
            outStream.Write(rec);
            outStream.Write(frame);
            count++;
        }
    }

    Console.WriteLine($"wrote {count} packets ({frames.Count} x {repeats}) to {output}");
    return 0;
}

static int DecodeOnly(string path, int runs)
{
    // The share of the time spent reading and decoding, without the flow table: where to look when optimising.
    for (int i = 0; i < runs; i++)
    {
        var weird = new WeirdCounters();
        var decoder = new PacketDecoder(weird);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        long readOnly = 0;
        using (var reader = CaptureReader.Open(path, weird))
        {
            while (reader.TryRead(out var r))
            {
                readOnly += decoder.TryDecode(r.LinkType, r.TimestampMicros, r.Data, out var p) ? p.PayloadBytes : 0;
            }
        }

        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"read+decode run {i + 1}: {weird.Records} packets, cpu {cpu:F3} s ({weird.Records / cpu / 1e6:F2} M packets/s per core), payload {readOnly}"));
    }

    return 0;
}

static int Run(string path, FlowMeterMode mode, int runs)
{
    var best = double.MaxValue;
    var bestCpu = double.MaxValue;
    long packets = 0, flows = 0;
    for (int i = 0; i < runs; i++)
    {
        var sink = new CountingSink();
        var meter = new PacketFlowMeter(new FlowMeterOptions { Mode = mode }, sink);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        using (var reader = CaptureReader.Open(path, meter.Weird))
        {
            meter.ProcessAll(reader);
            meter.Flush();
        }

        sw.Stop();
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        best = Math.Min(best, sw.Elapsed.TotalSeconds);
        bestCpu = Math.Min(bestCpu, cpu);
        packets = meter.Weird.Records;
        flows = sink.Flows;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"run {i + 1}: wall {sw.Elapsed.TotalSeconds:F3} s, cpu {cpu:F3} s, GCs {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}, allocated {GC.GetTotalAllocatedBytes() / 1e6:F0} MB, peak flows {meter.Flows.PeakFlows}, started {meter.Flows.Started}"));
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"stakeout {mode}: {packets} packets, {flows} flows, best of {runs}: wall {best:F3} s ({packets / best / 1e6:F2} M packets/s), cpu {bestCpu:F3} s ({packets / bestCpu / 1e6:F2} M packets/s per core)"));
    return 0;
}

internal sealed class CountingSink : IFlowSink
{
    public long Flows { get; private set; }

    // The features are computed before this call, so every flow pays for all 78 of them.
    public void OnFlow(in CompletedFlow flow) => Flows += flow.Features.Length > 0 ? 1 : 0;
}
