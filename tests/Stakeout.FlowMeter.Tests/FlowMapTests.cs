using Stakeout.FlowMeter.Decoding;
using Stakeout.FlowMeter.Flows;

namespace Stakeout.FlowMeter.Tests;

/// <summary><see cref="FlowMap"/> against a <see cref="Dictionary{TKey, TValue}"/> doing the same operations.</summary>
public sealed class FlowMapTests
{
    [Theory]
    [InlineData(1, 300)]
    [InlineData(2, 5_000)]
    [InlineData(3, 40_000)]
    public void RandomSetsRemovesAndLookups_AgreeWithADictionary(int seed, int keys)
    {
        // A small pool of keys keeps long probe runs, wrap-around at the end of the slots and removals inside runs
        // common; a large one makes the map grow several times.
        var random = new Random(seed);
        var pool = Enumerable.Range(0, keys).Select(i => Key(random, i)).ToArray();
        var map = new FlowMap();
        var reference = new Dictionary<FlowKey, FlowState>();
        for (int op = 0; op < 200_000; op++)
        {
            var key = pool[random.Next(pool.Length)];
            switch (random.Next(4))
            {
                case 0:
                case 1:
                    var flow = Flow(key);
                    map.Set(flow);
                    reference[key] = flow;
                    break;
                case 2:
                    Assert.Equal(reference.Remove(key), map.Remove(key));
                    break;
                default:
                    Assert.Equal(reference.TryGetValue(key, out var expected), map.TryGetValue(key, out var actual));
                    Assert.Same(expected, expected is null ? null : actual);
                    break;
            }

            Assert.Equal(reference.Count, map.Count);
        }

        foreach (var key in pool)
        {
            Assert.Equal(reference.TryGetValue(key, out var expected), map.TryGetValue(key, out var actual));
            Assert.Same(expected, expected is null ? null : actual);
        }

        Assert.Equal(reference.Values.ToHashSet(), map.Values().ToHashSet());
    }

    [Fact]
    public void SetOfAKeyAlreadyHeld_ReplacesItsFlow_AndClearEmptiesTheMap()
    {
        var random = new Random(4);
        var key = Key(random, 1);
        var map = new FlowMap();
        var first = Flow(key);
        var second = Flow(key);
        map.Set(first);
        map.Set(second);

        Assert.Equal(1, map.Count);
        Assert.True(map.TryGetValue(key, out var held));
        Assert.Same(second, held);

        map.Clear();
        Assert.Equal(0, map.Count);
        Assert.False(map.TryGetValue(key, out _));
        Assert.False(map.Remove(key));
    }

    [Fact]
    public void KeysThatDifferInOneFieldOnly_SpreadEvenlyOverTheLowBits()
    {
        // A scan walks one port or one address; the map indexes by the hash's low bits, so those must not cluster.
        var client = new Address(0, 0x0A000001, false);
        var server = new Address(0, 0xC0A80001, false);
        var byPort = Enumerable.Range(0, 65536).Select(p => FlowKey.Of(client, (ushort)p, server, 80, 6));
        var byAddress = Enumerable.Range(0, 65536).Select(a => FlowKey.Of(new Address(0, 0x0A000000 + (ulong)a, false), 40000, server, 80, 6));
        var byProtocol = Enumerable.Range(0, 256).SelectMany(proto => Enumerable.Range(0, 256).Select(p => FlowKey.Of(client, (ushort)p, server, 443, (byte)proto)));
        foreach (var keys in new[] { byPort, byAddress, byProtocol })
        {
            var load = new int[1024];
            foreach (var key in keys)
            {
                load[key.GetHashCode() & 1023]++;
            }

            // 64 keys a slot on average; a fair hash keeps every slot within about 6 standard deviations (8 each).
            Assert.InRange(load.Min(), 16, 64);
            Assert.InRange(load.Max(), 64, 112);
        }
    }

    private static FlowKey Key(Random random, int i)
    {
        var a = new Address(0, (ulong)(0x0A000000 + (i % 251)), false);
        var b = new Address(0, (ulong)(0xC0A80000 + random.Next(1 << 16)), false);
        return FlowKey.Of(a, (ushort)random.Next(1024, 65535), b, (ushort)(i % 3 == 0 ? 80 : 443), (byte)(i % 5 == 0 ? 17 : 6));
    }

    private static FlowState Flow(in FlowKey key)
    {
        var flow = new FlowState();
        flow.Reset(key, key.A, key.PortA, key.B, key.PortB, key.Protocol);
        return flow;
    }
}
