using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Stakeout.TestSupport;

/// <summary>
/// Loopback ports for the servers a test starts and names to its clients (a monitor's flow source or dashboard, a NATS or
/// IPFS node, a mirror).
/// </summary>
/// <remarks>
/// A port the kernel hands out for a bind to port 0 comes from its ephemeral range, and once released it can be handed
/// out again before the test's server binds it: every outgoing connection of every test process on the machine draws
/// its local port from that same range. A monitor whose dashboard or flow port was taken that way fails at start, and
/// the test reads it as "connection refused". These ports come from just below the ephemeral range (Linux's default
/// 32768-60999 gives 20000-32767), at random so that test processes running side by side rarely meet, never twice in
/// one process, and each is checked free by binding it.
/// </remarks>
internal static class LoopbackPort
{
    private const int Span = 12_768;
    private static readonly HashSet<int> Given = [];
    private static readonly Lock Gate = new();
    private static readonly (int Low, int High) Range = BelowEphemeral();

    /// <summary>A loopback TCP port nobody listens on now and this process has not handed out before.</summary>
    public static int Free()
    {
        lock (Gate)
        {
            for (int attempt = 0; attempt < 1_000; attempt++)
            {
                int port = Random.Shared.Next(Range.Low, Range.High);
                if (!Given.Contains(port) && Bindable(port))
                {
                    Given.Add(port);
                    return port;
                }
            }
        }

        throw new InvalidOperationException($"no free loopback port in {Range.Low}-{Range.High - 1} after 1,000 tries.");
    }

    private static bool Bindable(int port)
    {
        try
        {
            using var probe = new TcpListener(IPAddress.Loopback, port);
            probe.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    // [low, high) just below the kernel's ephemeral range (read from /proc on Linux; the IANA 49152 elsewhere).
    private static (int Low, int High) BelowEphemeral()
    {
        int ephemeralLow = 49_152;
        const string path = "/proc/sys/net/ipv4/ip_local_port_range";
        if (File.Exists(path)
            && File.ReadAllText(path).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) is [var low, ..]
            && int.TryParse(low, NumberStyles.None, CultureInfo.InvariantCulture, out int parsed))
        {
            ephemeralLow = parsed;
        }

        int high = Math.Max(ephemeralLow, 1_024 + Span);
        return (high - Span, high);
    }
}
