using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Ipfs;

/// <summary>The answer of <c>id</c>: who the node is and where its peers reach it.</summary>
/// <param name="PeerId">The node's peer ID.</param>
/// <param name="Addresses">Its swarm multiaddresses, each ending in <c>/p2p/PEERID</c>.</param>
/// <param name="AgentVersion">The implementation and version, e.g. <c>kubo/0.39.0/</c>.</param>
public sealed record KuboNodeId(string PeerId, IReadOnlyList<string> Addresses, string AgentVersion);

/// <summary>An IPNS key held by a node: its local name and the IPNS name it publishes under.</summary>
/// <param name="Name">The key's local name (<c>key/gen</c> argument).</param>
/// <param name="Id">The IPNS name, e.g. <c>k51qzi5uqu5d…</c>.</param>
public sealed record IpnsKey(string Name, string Id);

/// <summary>
/// A client of one IPFS node's RPC API (Kubo's <c>/api/v0</c>, which js-ipfs serves too). Every call is a POST, as Kubo
/// requires; transient failures (no connection, a time-out, HTTP 408/429/502/503/504) are retried with exponential
/// backoff and seeded jitter; errors name the node and the call. Content is never trusted: a stored block's CID is
/// compared with the one computed locally, a fetched block is hashed against the CID asked for.
/// </summary>
public sealed class KuboClient
{
    /// <summary>The largest block read back from a node (Kubo refuses blocks over 2 MiB on the wire by default).</summary>
    public const int MaxBlockBytes = 4 << 20;

    private const int MaxErrorBodyChars = 600;

    private readonly HttpClient _http;
    private readonly Uri _api;
    private readonly KuboClientOptions _options;
    private readonly ResiliencePipeline _pipeline;

    /// <summary>A client of the node whose RPC API listens at <paramref name="apiAddress"/> (e.g. <c>http://127.0.0.1:5001</c>).</summary>
    /// <param name="apiAddress">The API's base address, without <c>/api/v0</c>.</param>
    /// <param name="http">The HTTP client to send with; its own time-out is not relied upon (each attempt has one).</param>
    /// <param name="options">Time-outs and retries; null for <see cref="KuboClientOptions.Default"/>.</param>
    /// <param name="timeProvider">Clock of the retry delays and time-outs; null for the system clock.</param>
    public KuboClient(Uri apiAddress, HttpClient http, KuboClientOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(apiAddress);
        ArgumentNullException.ThrowIfNull(http);
        if (!apiAddress.IsAbsoluteUri || (apiAddress.Scheme != Uri.UriSchemeHttp && apiAddress.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"The IPFS API address '{apiAddress}' must be an absolute http:// or https:// URL, e.g. http://127.0.0.1:5001.", nameof(apiAddress));
        }

        _options = options ?? KuboClientOptions.Default;
        _options.Validate();
        _http = http;
        _api = new Uri(apiAddress.GetLeftPart(UriPartial.Authority) + apiAddress.AbsolutePath.TrimEnd('/') + "/api/v0/");
        Name = apiAddress.GetLeftPart(UriPartial.Authority) + apiAddress.AbsolutePath.TrimEnd('/');

        var jitter = new Random(_options.JitterSeed);
        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider ?? TimeProvider.System };
        if (_options.MaxRetries > 0)
        {
            // Retry outside, time-out inside: each attempt gets the whole attempt time-out.
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<TransientKuboFailure>().Handle<TimeoutRejectedException>(),
                MaxRetryAttempts = _options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.RetryBaseDelay,
                MaxDelay = _options.RetryMaxDelay,
                Randomizer = () =>
                {
                    lock (jitter)
                    {
                        return jitter.NextDouble();
                    }
                },
            });
        }

        _pipeline = builder.AddTimeout(_options.AttemptTimeout).Build();
    }

    /// <summary>The node's API address, as errors and metrics name it.</summary>
    public string Name { get; }

    private bool? _jsIpfs;

    private async ValueTask<bool> IsJsIpfsAsync(CancellationToken cancellationToken)
    {
        // Asked once per client; a node replaced by another implementation behind the same address needs a new client.
        _jsIpfs ??= (await IdAsync(cancellationToken).ConfigureAwait(false)).AgentVersion.StartsWith("js-ipfs", StringComparison.Ordinal);
        return _jsIpfs.Value;
    }

    /// <summary>Who the node is: peer ID, swarm addresses, agent (<c>id</c>).</summary>
    public async Task<KuboNodeId> IdAsync(CancellationToken cancellationToken)
    {
        using var json = await CallJsonAsync("id", [], null, cancellationToken).ConfigureAwait(false);
        var root = json.RootElement;
        string peer = RequiredString(root, "ID", "id");
        var addresses = root.TryGetProperty("Addresses", out var a) && a.ValueKind == JsonValueKind.Array
            ? a.EnumerateArray().Select(e => e.GetString() ?? "").Where(s => s.Length > 0).ToList()
            : [];
        string agent = root.TryGetProperty("AgentVersion", out var v) ? v.GetString() ?? "" : "";
        return new KuboNodeId(peer, addresses, agent);
    }

    /// <summary>
    /// Stores <paramref name="block"/> on the node (<c>block/put</c>, sha2-256, CIDv1 of <paramref name="codec"/>,
    /// pinned when <paramref name="pin"/>) and returns its CID after checking the node named the CID computed here.
    /// </summary>
    /// <exception cref="BlockIntegrityException">The node answered with another CID.</exception>
    public async Task<Cid> BlockPutAsync(ReadOnlyMemory<byte> block, ulong codec, bool pin, CancellationToken cancellationToken)
    {
        var expected = Cid.Of(block.Span, codec);
        string codecName = CodecName(codec);
        byte[] bytes = block.ToArray();
        // Kubo (0.13 and later) takes the codec as cid-codec and always answers with CIDv1 for it; js-ipfs, the test
        // nodes, still takes the legacy format and version. Both answers are checked against the CID computed here.
        (string, string)[] query = await IsJsIpfsAsync(cancellationToken).ConfigureAwait(false)
            ? [("format", codecName), ("version", "1"), ("mhtype", "sha2-256"), ("pin", pin ? "true" : "false")]
            : [("cid-codec", codecName), ("mhtype", "sha2-256"), ("pin", pin ? "true" : "false")];
        using var json = await CallJsonAsync(
            "block/put",
            query,
            () =>
            {
                var form = new MultipartFormDataContent();
                var part = new ByteArrayContent(bytes);
                part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                form.Add(part, "file", "block");
                return form;
            },
            cancellationToken).ConfigureAwait(false);
        string key = RequiredString(json.RootElement, "Key", "block/put");
        if (!Cid.TryParse(key, out var returned, out string? error))
        {
            throw new BlockIntegrityException(Name, "block/put", $"the node answered with '{key}', which is not a CIDv1 sha2-256 ({error}); expected {expected}");
        }

        if (!returned.Equals(expected))
        {
            throw new BlockIntegrityException(Name, "block/put", $"the node stored the block as {returned}, but its bytes hash to {expected}");
        }

        return expected;
    }

    /// <summary>
    /// The block named <paramref name="cid"/> (<c>block/get</c>), fetched from the node's peers if it does not hold it,
    /// or null when it cannot be found within <see cref="KuboClientOptions.FetchTimeout"/>.
    /// </summary>
    /// <exception cref="BlockIntegrityException">The bytes the node returned do not hash to <paramref name="cid"/>.</exception>
    public async Task<byte[]?> BlockGetAsync(Cid cid, CancellationToken cancellationToken)
    {
        byte[]? bytes = await BlockGetUncheckedAsync(cid, cancellationToken).ConfigureAwait(false);
        if (bytes is not null && !cid.Matches(bytes))
        {
            throw new BlockIntegrityException(Name, "block/get", $"the {bytes.Length} bytes returned for {cid} hash to {Cid.Of(bytes, cid.Codec)}");
        }

        return bytes;
    }

    /// <summary>
    /// The bytes the node returns for <paramref name="cid"/>, NOT checked against it: for a reader that checks every
    /// block itself and reports which record a wrong one belongs to (the ledger verifier).
    /// </summary>
    public async Task<byte[]?> BlockGetUncheckedAsync(Cid cid, CancellationToken cancellationToken) =>
        await CallAsync(
            "block/get",
            [("arg", cid.ToString()), ("timeout", GoDuration(_options.FetchTimeout))],
            null,
            async (response, ct) => await ReadBoundedAsync(response, ct).ConfigureAwait(false),
            notFoundAsNull: true,
            cancellationToken).ConfigureAwait(false);

    /// <summary>Pins <paramref name="cid"/> on the node (<c>pin/add</c>), so its garbage collection keeps it.</summary>
    public async Task PinAddAsync(Cid cid, CancellationToken cancellationToken)
    {
        using var json = await CallJsonAsync(
            "pin/add",
            [("arg", cid.ToString()), ("recursive", "true"), ("timeout", GoDuration(_options.FetchTimeout))],
            null,
            cancellationToken).ConfigureAwait(false);
        // Kubo lists the pin as given; js-ipfs in base58btc: compare the CIDs, not their text.
        if (!json.RootElement.TryGetProperty("Pins", out var pins) || pins.ValueKind != JsonValueKind.Array
            || !pins.EnumerateArray().Any(p => Multibase.TryParseCid(p.GetString(), out var pinned) && pinned.Equals(cid)))
        {
            throw new KuboException(Name, "pin/add", $"the answer does not list {cid} among the pins: {Truncate(json.RootElement.GetRawText())}");
        }
    }

    /// <summary>The IPNS keys the node holds (<c>key/list</c>).</summary>
    public async Task<IReadOnlyList<IpnsKey>> KeyListAsync(CancellationToken cancellationToken)
    {
        using var json = await CallJsonAsync("key/list", [], null, cancellationToken).ConfigureAwait(false);
        if (!json.RootElement.TryGetProperty("Keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        return [.. keys.EnumerateArray().Select(k => new IpnsKey(RequiredString(k, "Name", "key/list"), RequiredString(k, "Id", "key/list")))];
    }

    /// <summary>Creates an ed25519 IPNS key named <paramref name="name"/> on the node (<c>key/gen</c>).</summary>
    public async Task<IpnsKey> KeyGenAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        using var json = await CallJsonAsync("key/gen", [("arg", name), ("type", "ed25519")], null, cancellationToken).ConfigureAwait(false);
        return new IpnsKey(RequiredString(json.RootElement, "Name", "key/gen"), RequiredString(json.RootElement, "Id", "key/gen"));
    }

    /// <summary>
    /// Points the IPNS name of key <paramref name="key"/> at <c>/ipfs/CID</c> (<c>name/publish</c>) and returns the
    /// name. <paramref name="allowOffline"/> lets a node without peers publish (to its own store).
    /// </summary>
    public async Task<string> NamePublishAsync(Cid cid, string key, TimeSpan lifetime, bool allowOffline, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        if (lifetime <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime), lifetime, "The IPNS record lifetime must be positive.");
        }

        using var json = await CallJsonAsync(
            "name/publish",
            [("arg", "/ipfs/" + cid), ("key", key), ("lifetime", GoDuration(lifetime)), ("allow-offline", allowOffline ? "true" : "false"), ("resolve", "false")],
            null,
            cancellationToken).ConfigureAwait(false);
        string value = RequiredString(json.RootElement, "Value", "name/publish");
        if (!string.Equals(value, "/ipfs/" + cid, StringComparison.Ordinal))
        {
            throw new KuboException(Name, "name/publish", $"the node published '{value}' instead of /ipfs/{cid}");
        }

        return RequiredString(json.RootElement, "Name", "name/publish");
    }

    /// <summary>The CID the IPNS name <paramref name="name"/> points at (<c>name/resolve</c>), or null when it has no record.</summary>
    public async Task<Cid?> NameResolveAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        string arg = name.StartsWith("/ipns/", StringComparison.Ordinal) ? name : "/ipns/" + name;
        string? path = await CallAsync(
            "name/resolve",
            [("arg", arg), ("recursive", "true"), ("nocache", "true")],
            null,
            async (response, ct) =>
            {
                using var json = await ParseJsonAsync(response, "name/resolve", ct).ConfigureAwait(false);
                return RequiredString(json.RootElement, "Path", "name/resolve");
            },
            notFoundAsNull: true,
            cancellationToken).ConfigureAwait(false);
        if (path is null)
        {
            return null;
        }

        string text = path.StartsWith("/ipfs/", StringComparison.Ordinal) ? path["/ipfs/".Length..] : path;
        if (!Cid.TryParse(text, out var cid, out string? error))
        {
            throw new KuboException(Name, "name/resolve", $"{name} resolves to '{path}', which is not /ipfs/ and a CIDv1 sha2-256 ({error})");
        }

        return cid;
    }

    /// <summary>Connects the node to the peer at <paramref name="multiaddress"/> (<c>swarm/connect</c>).</summary>
    public async Task SwarmConnectAsync(string multiaddress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(multiaddress);
        using var json = await CallJsonAsync("swarm/connect", [("arg", multiaddress)], null, cancellationToken).ConfigureAwait(false);
    }

    internal static string CodecName(ulong codec) => codec switch
    {
        Cid.RawCodec => "raw",
        Cid.DagJsonCodec => "dag-json",
        _ => throw new ArgumentOutOfRangeException(nameof(codec), codec, "Only the raw (0x55) and dag-json (0x0129) codecs are stored on IPFS by Stakeout."),
    };

    /// <summary>A duration in Go's syntax, which Kubo's options parse (e.g. <c>20s</c>, <c>1500ms</c>, <c>24h0m0s</c>).</summary>
    internal static string GoDuration(TimeSpan value) =>
        value.TotalMilliseconds % 1000 == 0
            ? ((long)value.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s"
            : ((long)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";

    private Task<JsonDocument> CallJsonAsync(string call, (string Key, string Value)[] query, Func<HttpContent>? content, CancellationToken cancellationToken) =>
        CallAsync(call, query, content, (response, ct) => ParseJsonAsync(response, call, ct), notFoundAsNull: false, cancellationToken)!;

    private async Task<T?> CallAsync<T>(
        string call,
        (string Key, string Value)[] query,
        Func<HttpContent>? content,
        Func<HttpResponseMessage, CancellationToken, Task<T>> read,
        bool notFoundAsNull,
        CancellationToken cancellationToken)
        where T : class
    {
        var uri = new Uri(_api, call + (query.Length == 0 ? "" : "?" + string.Join('&', query.Select(q => Uri.EscapeDataString(q.Key) + "=" + Uri.EscapeDataString(q.Value)))));
        int attempts = 0;
        try
        {
            return await _pipeline.ExecuteAsync(
                async ct =>
                {
                    attempts++;
                    using var request = new HttpRequestMessage(HttpMethod.Post, uri);
                    request.Content = content?.Invoke();
                    HttpResponseMessage response;
                    try
                    {
                        response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
                    }
                    catch (HttpRequestException e)
                    {
                        throw new TransientKuboFailure($"no answer ({e.Message})", null, e);
                    }

                    using (response)
                    {
                        if (response.IsSuccessStatusCode)
                        {
                            try
                            {
                                return await read(response, ct).ConfigureAwait(false);
                            }
                            catch (HttpRequestException e)
                            {
                                throw new TransientKuboFailure($"the answer was cut short ({e.Message})", (int)response.StatusCode, e);
                            }
                            catch (IOException e)
                            {
                                throw new TransientKuboFailure($"the answer was cut short ({e.Message})", (int)response.StatusCode, e);
                            }
                        }

                        string message = await ErrorMessageAsync(response, ct).ConfigureAwait(false);
                        int status = (int)response.StatusCode;
                        if (notFoundAsNull && IsNotFound(response.StatusCode, message))
                        {
                            return null;
                        }

                        if (status is 408 or 429 or 502 or 503 or 504)
                        {
                            throw new TransientKuboFailure($"HTTP {status}: {message}", status, null);
                        }

                        throw new KuboException(Name, call, $"HTTP {status}: {message}", status);
                    }
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (TransientKuboFailure e)
        {
            throw new KuboException(Name, call, $"{e.Message} (gave up after {attempts} attempt{(attempts == 1 ? "" : "s")})", e.StatusCode, e.InnerException ?? e);
        }
        catch (TimeoutRejectedException e)
        {
            throw new KuboException(Name, call, $"no answer within {_options.AttemptTimeout.TotalSeconds:0.#} s (gave up after {attempts} attempt{(attempts == 1 ? "" : "s")})", null, e);
        }
    }

    // Kubo answers a block or IPNS record it cannot find with HTTP 500 (or 404 for routing: not found) and a message
    // rather than a distinct status; js-ipfs does the same with its own wording.
    private static bool IsNotFound(HttpStatusCode status, string message) =>
        status == HttpStatusCode.NotFound
        || (status == HttpStatusCode.InternalServerError
            && (message.Contains("not found", StringComparison.OrdinalIgnoreCase)
                || message.Contains("deadline exceeded", StringComparison.OrdinalIgnoreCase)
                || message.Contains("timed out", StringComparison.OrdinalIgnoreCase)
                || message.Contains("timeout", StringComparison.OrdinalIgnoreCase)
                || message.Contains("aborted", StringComparison.OrdinalIgnoreCase)
                || message.Contains("could not resolve", StringComparison.OrdinalIgnoreCase)
                || message.Contains("no record", StringComparison.OrdinalIgnoreCase)));

    private async Task<JsonDocument> ParseJsonAsync(HttpResponseMessage response, string call, CancellationToken cancellationToken)
    {
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        // Streaming commands (pin/add with progress, swarm/connect) may send one JSON object a line: the last one counts.
        string last = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
        try
        {
            return JsonDocument.Parse(last);
        }
        catch (JsonException e)
        {
            throw new KuboException(Name, call, $"the answer is not JSON: {Truncate(text)}", (int)response.StatusCode, e);
        }
    }

    private async Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength is > MaxBlockBytes)
        {
            throw new KuboException(Name, "block/get", $"the node announces a {response.Content.Headers.ContentLength}-byte block, more than the {MaxBlockBytes} bytes a ledger block may have");
        }

        using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBlockBytes)
            {
                throw new KuboException(Name, "block/get", $"the node sent more than the {MaxBlockBytes} bytes a ledger block may have");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static async Task<string> ErrorMessageAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            return $"(the error body could not be read: {e.Message})";
        }

        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("Message", out var m) && m.ValueKind == JsonValueKind.String)
            {
                return m.GetString()!;
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page, a plain-text error): the text itself is the message.
        }

        return Truncate(body.Trim());
    }

    private string RequiredString(JsonElement element, string property, string call)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(property, out var value) || value.ValueKind != JsonValueKind.String
            || string.IsNullOrEmpty(value.GetString()))
        {
            throw new KuboException(Name, call, $"the answer has no '{property}' string: {Truncate(element.GetRawText())}");
        }

        return value.GetString()!;
    }

    private static string Truncate(string text) =>
        text.Length <= MaxErrorBodyChars ? text : new StringBuilder(text, 0, MaxErrorBodyChars, MaxErrorBodyChars + 1).Append('…').ToString();

    /// <summary>A failure worth another attempt; becomes a <see cref="KuboException"/> when the retries run out.</summary>
    private sealed class TransientKuboFailure(string message, int? statusCode, Exception? inner) : Exception(message, inner)
    {
        public int? StatusCode { get; } = statusCode;
    }
}
