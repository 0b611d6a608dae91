namespace Stakeout.Ledger.Ipfs;

/// <summary>
/// An IPFS node's RPC call failed: the node could not be reached, timed out, or answered with an error. The message
/// names the node and the call (e.g. <c>http://127.0.0.1:5001 block/put</c>) and carries the node's own error text.
/// </summary>
public sealed class KuboException : Exception
{
    /// <summary>Creates the exception for a failed <paramref name="call"/> on <paramref name="node"/>.</summary>
    public KuboException(string node, string call, string message, int? statusCode = null, Exception? inner = null)
        : base($"IPFS node {node}, {call}: {message}", inner)
    {
        Node = node;
        Call = call;
        StatusCode = statusCode;
    }

    /// <summary>Creates the exception with a message only (for serializers and tests).</summary>
    public KuboException(string message)
        : this("?", "?", message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public KuboException(string message, Exception inner)
        : this("?", "?", message, null, inner)
    {
    }

    /// <summary>Creates the exception without details.</summary>
    public KuboException()
        : this("?", "?", "the call failed")
    {
    }

    /// <summary>The node's RPC API address.</summary>
    public string Node { get; }

    /// <summary>The RPC command, e.g. <c>block/put</c>.</summary>
    public string Call { get; }

    /// <summary>The HTTP status the node answered with, or null when it did not answer.</summary>
    public int? StatusCode { get; }
}

/// <summary>
/// An IPFS node returned content that is not what was asked for: a block whose bytes do not hash to its CID, or a
/// <c>block/put</c> answer naming another CID than the one computed locally. Never retried: the node is not to be trusted.
/// </summary>
public sealed class BlockIntegrityException : Exception
{
    /// <summary>Creates the exception naming the node, the call and what differed.</summary>
    public BlockIntegrityException(string node, string call, string message)
        : base($"IPFS node {node}, {call}: {message}")
    {
        Node = node;
        Call = call;
    }

    /// <summary>Creates the exception with a message only.</summary>
    public BlockIntegrityException(string message)
        : this("?", "?", message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public BlockIntegrityException(string message, Exception inner)
        : base(message, inner)
    {
        Node = "?";
        Call = "?";
    }

    /// <summary>Creates the exception without details.</summary>
    public BlockIntegrityException()
        : this("?", "?", "the content does not match its CID")
    {
    }

    /// <summary>The node's RPC API address.</summary>
    public string Node { get; }

    /// <summary>The RPC command.</summary>
    public string Call { get; }
}
