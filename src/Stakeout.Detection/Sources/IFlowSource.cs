using Stakeout.Core;

namespace Stakeout.Detection;

/// <summary>
/// Where flows come from. A source either hands over text (CSV with a header, or JSON lines) through
/// <see cref="FlowSourceContext.OpenTextStream"/>, which the pipeline parses, or flows it parsed itself (a flow meter,
/// the batch file reader) through <see cref="FlowSourceContext.WriteFlowsAsync"/>. New kinds of source (pcap, live
/// interface, NATS) are new implementations registered with <see cref="FlowSourceRegistry"/>; the pipeline does not change.
/// </summary>
public interface IFlowSource
{
    /// <summary>The source as the user named it (its URI).</summary>
    string Name { get; }

    /// <summary>
    /// Reads until the source ends or <see cref="FlowSourceContext.Stopping"/> is signalled, then returns after its
    /// streams are completed. Throwing fails the pipeline (after draining what came in).
    /// </summary>
    Task RunAsync(FlowSourceContext context);

    /// <summary>
    /// Takes now what the source must own before anything is announced (a listening port), so that a port in use fails
    /// the start with one clear error instead of after a dashboard or metrics endpoint is up. Idempotent; optional:
    /// <see cref="RunAsync"/> takes it itself when this was not called. Most sources have nothing to take.
    /// </summary>
    void Open()
    {
    }
}

/// <summary>Thrown when a stream's header cannot be used with the model: not a flow CSV, or features the model reads are missing.</summary>
public sealed class StreamSchemaException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StreamSchemaException(string stream, string detail, IReadOnlyList<string>? missingFeatures = null)
        : base($"{stream}: {detail}")
    {
        Stream = stream;
        MissingFeatures = missingFeatures ?? [];
    }

    /// <summary>The stream refused.</summary>
    public string Stream { get; }

    /// <summary>Canonical names of the model's features the stream lacks (empty for other problems).</summary>
    public IReadOnlyList<string> MissingFeatures { get; }
}

/// <summary>An item on the ingress queue: raw lines of one text stream, or flows parsed by their source.</summary>
internal abstract class IngestItem
{
    /// <summary>Flows this item stands for (counted as dropped if the item is).</summary>
    public abstract int FlowCount { get; }

    /// <summary>Gives pooled buffers back (after parsing, or when dropped).</summary>
    public virtual void Release()
    {
    }
}

/// <summary>Complete lines (each ending in '\n') of one text stream.</summary>
internal sealed class TextChunk(StreamParser parser, byte[] buffer, int length, int lines, long firstLine, long received) : IngestItem
{
    public StreamParser Parser { get; } = parser;

    public byte[] Buffer { get; private set; } = buffer;

    public int Length { get; } = length;

    public long FirstLine { get; } = firstLine;

    public long Received { get; } = received;

    public override int FlowCount { get; } = lines;

    public override void Release()
    {
        if (Buffer.Length > 0)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(Buffer);
            Buffer = [];
        }
    }
}

/// <summary>Flows a source parsed itself.</summary>
internal sealed class FlowChunk(FlowBatch flows, string stream, long received) : IngestItem
{
    public FlowBatch Flows { get; } = flows;

    public string Stream { get; } = stream;

    public long Received { get; } = received;

    public override int FlowCount => Flows.Count;
}
