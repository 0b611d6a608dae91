using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Ipfs;

/// <summary>
/// The ledger's head as an IPNS name on one IPFS node. A publishing pointer owns a named key on the node (created with
/// <c>key/gen</c> on first use, one per ledger) and points its name at <c>/ipfs/CHECKPOINT</c> with <c>name/publish</c>;
/// a reading pointer only resolves a given name. IPNS records are signed by the node's key, so the name says where the
/// newest checkpoint is; the checkpoint's own signature, checked by <c>verify</c>, says whether to believe it.
/// </summary>
public sealed class IpnsHeadPointer : IHeadPointer
{
    private readonly KuboClient _client;
    private readonly string? _keyName;
    private readonly TimeSpan _lifetime;
    private string? _name;

    private IpnsHeadPointer(KuboClient client, string? keyName, string? name, TimeSpan lifetime)
    {
        _client = client;
        _keyName = keyName;
        _name = name;
        _lifetime = lifetime;
    }

    /// <summary>The IPNS name, once known (after the first publish or resolve for a publishing pointer).</summary>
    public string? IpnsName => _name;

    /// <summary>The node's API address.</summary>
    public string Node => _client.Name;

    /// <summary>A pointer that publishes under the node's key <paramref name="keyName"/>, with records valid for <paramref name="lifetime"/>.</summary>
    public static IpnsHeadPointer ForKey(KuboClient client, string keyName, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(keyName);
        if (keyName == "self")
        {
            throw new ArgumentException("Give the ledger a key of its own, not the node's 'self' key, so one node can hold several ledgers.", nameof(keyName));
        }

        if (lifetime <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime), lifetime, "The IPNS record lifetime must be positive.");
        }

        return new IpnsHeadPointer(client, keyName, null, lifetime);
    }

    /// <summary>A pointer that only resolves the IPNS name <paramref name="ipnsName"/> (e.g. <c>k51qzi5uqu5d…</c>).</summary>
    public static IpnsHeadPointer ForName(KuboClient client, string ipnsName)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(ipnsName);
        return new IpnsHeadPointer(client, null, ipnsName.StartsWith("/ipns/", StringComparison.Ordinal) ? ipnsName["/ipns/".Length..] : ipnsName, TimeSpan.Zero);
    }

    /// <inheritdoc />
    public async ValueTask PublishAsync(Cid checkpoint, CancellationToken cancellationToken)
    {
        if (_keyName is null)
        {
            throw new InvalidOperationException($"The IPNS pointer {_name} on {_client.Name} was opened for reading; it holds no key to publish with.");
        }

        await EnsureKeyAsync(cancellationToken).ConfigureAwait(false);
        _name = await _client.NamePublishAsync(checkpoint, _keyName, _lifetime, allowOffline: true, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<Cid?> ResolveAsync(CancellationToken cancellationToken)
    {
        if (_name is null)
        {
            await EnsureKeyAsync(cancellationToken).ConfigureAwait(false);
        }

        return await _client.NameResolveAsync(_name!, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Finds the ledger's key on the node, creating it the first time; sets <see cref="IpnsName"/>.</summary>
    public async ValueTask<string> EnsureKeyAsync(CancellationToken cancellationToken)
    {
        if (_name is not null)
        {
            return _name;
        }

        var keys = await _client.KeyListAsync(cancellationToken).ConfigureAwait(false);
        var key = keys.FirstOrDefault(k => string.Equals(k.Name, _keyName, StringComparison.Ordinal))
            ?? await _client.KeyGenAsync(_keyName!, cancellationToken).ConfigureAwait(false);
        _name = key.Id;
        return _name;
    }
}
