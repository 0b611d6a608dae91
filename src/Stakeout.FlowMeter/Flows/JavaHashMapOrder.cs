using System.Runtime.CompilerServices;

namespace Stakeout.FlowMeter.Flows;

/// <summary>
/// The iteration order of a <c>java.util.HashMap&lt;String, V&gt;</c> (Java 8 and later), which decides the order of
/// the flows CICFlowMeter-V4 writes at the end of a capture. The map walks its buckets in index order and each bucket's
/// chain in insertion order; the index is the key's <c>String.hashCode()</c> with its high half folded into the low
/// (<c>h ^ (h &gt;&gt;&gt; 16)</c>) masked by the table size. The table starts at 16 buckets and doubles whenever the size
/// passes three quarters of it, never shrinking; a resize splits each chain keeping its order, so entries that share a
/// bucket at the end stay in the order they were put. (A chain of 8 or more in a table of 64 or more becomes a tree
/// whose walk order differs; at a load factor of 0.75 that takes about one bucket in ten million, and is not modelled.)
/// </summary>
internal static class JavaHashMapOrder
{
    private const int InitialCapacity = 16;

    /// <summary>Java's <c>String.hashCode()</c>: s[0]·31^(n-1) + … + s[n-1] over UTF-16 code units, wrapping.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int StringHash(ReadOnlySpan<char> s)
    {
        int h = 0;
        foreach (char c in s)
        {
            h = unchecked((31 * h) + c);
        }

        return h;
    }

    /// <summary>The table size after the map has held <paramref name="peakSize"/> entries at once.</summary>
    public static int Capacity(long peakSize)
    {
        int capacity = InitialCapacity;
        while (peakSize > capacity * 3L / 4 && capacity < (1 << 30))
        {
            capacity <<= 1;
        }

        return capacity;
    }

    /// <summary>The bucket of a key with hash <paramref name="hash"/> in a table of <paramref name="capacity"/> buckets.</summary>
    public static int Bucket(int hash, int capacity) => (hash ^ (int)((uint)hash >> 16)) & (capacity - 1);
}
