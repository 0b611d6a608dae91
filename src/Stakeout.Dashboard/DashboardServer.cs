using System.Globalization;
using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Stakeout.Dashboard;

/// <summary>What the page shows about the run besides the aggregates.</summary>
/// <param name="Title">A short title (the source of a live monitor, the directory of a stored run).</param>
/// <param name="StoredRun">The stored run's read report, when serving one.</param>
public sealed record DashboardRunInfo(string Title, StoredRunReport? StoredRun = null);

/// <summary>
/// The dashboard's HTTP server (Kestrel): the page and its script, styles and charting library (embedded at build time),
/// a JSON API, and a server-sent-event stream per page that carries sampled alerts and the aggregates, never every flow.
/// Every response carries a strict Content-Security-Policy and the usual security headers; requests need the token when
/// one is set, and on loopback the Host header must name a loopback host (no DNS rebinding).
/// </summary>
public sealed class DashboardServer : IAsyncDisposable
{
    /// <summary>The cookie that carries the token after the first visit.</summary>
    public const string TokenCookie = "stakeout_dashboard";

    /// <summary>The Content-Security-Policy of every response: own origin only, no inline script or style, no eval.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private static readonly (string Path, string Resource, string ContentType)[] Assets =
    [
        ("/", "dashboard/index.html", "text/html; charset=utf-8"),
        ("/app.js", "dashboard/app.js", "text/javascript; charset=utf-8"),
        ("/app.css", "dashboard/app.css", "text/css; charset=utf-8"),
        ("/lib/echarts.min.js", "dashboard/echarts.min.js", "text/javascript; charset=utf-8"),
    ];

    private readonly WebApplication _app;
    private readonly DashboardOptions _options;
    private readonly DashboardState _state;
    private readonly ModelCard? _model;
    private readonly IAlertLedger _ledger;
    private readonly DashboardRunInfo _info;
    private readonly byte[]? _tokenBytes;
    private int _streams;

    private DashboardServer(WebApplication app, DashboardOptions options, DashboardState state, ModelCard? model, IAlertLedger ledger, DashboardRunInfo info)
    {
        _app = app;
        _options = options;
        _state = state;
        _model = model;
        _ledger = ledger;
        _info = info;
        _tokenBytes = options.Token is null ? null : Encoding.UTF8.GetBytes(options.Token);
    }

    /// <summary>The address served, known once started (the real port when 0 was asked for).</summary>
    public Uri? Url { get; private set; }

    /// <summary>The URL to open in a browser: <see cref="Url"/> with the token when there is one.</summary>
    public Uri? BrowserUrl => Url is null ? null : _options.Token is null ? Url : new Uri(Url, "/?token=" + Uri.EscapeDataString(_options.Token));

    /// <summary>Builds the server (not started). <paramref name="options"/> are validated: a non-loopback address without a token throws.</summary>
    public static DashboardServer Create(DashboardOptions options, DashboardState state, ModelCard? model, IAlertLedger? ledger, DashboardRunInfo info)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(info);
        options.Validate();
        foreach (var (_, resource, _) in Assets)
        {
            if (typeof(DashboardServer).Assembly.GetManifestResourceInfo(resource) is null)
            {
                throw new InvalidOperationException($"the dashboard asset '{resource}' is not embedded in {typeof(DashboardServer).Assembly.GetName().Name}: rebuild (the build runs npm ci in tools/dashboard-web).");
            }
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(DashboardServer).Assembly.GetName().Name });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = 0;
            k.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            k.Listen(options.Listen);
        });
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var app = builder.Build();
        var server = new DashboardServer(app, options, state, model, ledger ?? NoLedger.Instance, info);
        server.Map();
        return server;
    }

    /// <summary>Starts listening.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        string? address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        Url = address is null ? null : new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal) + "/");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void Map()
    {
        _app.Use(GuardAsync);
        foreach (var (path, resource, contentType) in Assets)
        {
            byte[] bytes = ReadResource(resource);
            _app.MapGet(path, (HttpContext ctx) => Results.Bytes(bytes, contentType));
        }

        _app.MapGet("/api/info", () => JsonResult(new
        {
            mode = _state.Mode,
            title = _info.Title,
            version = typeof(DashboardServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion,
            ledger = _ledger.Description,
            model_available = _model is not null,
            colors = _state.Colors,
            stored_run = _info.StoredRun,
            limits = new { recent_alerts = _state.Limits.RecentAlerts, buckets = _state.Limits.Buckets, max_alerts_per_push = _options.MaxAlertsPerPush },
        }));
        _app.MapGet("/api/stats", () => JsonResult(_state.Stats()));
        _app.MapGet("/api/alerts", (HttpContext ctx) =>
        {
            if (!TryFilter(ctx, out var filter, out var problem))
            {
                return problem!;
            }

            int limit = int.TryParse(ctx.Request.Query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out int l) ? Math.Clamp(l, 1, 500) : 100;
            return JsonResult(new { alerts = _state.Recent(filter!, limit) });
        });
        _app.MapGet("/api/alerts/{id:long}", async (long id, CancellationToken cancel) =>
        {
            var alert = _state.Find(id);
            if (alert is null)
            {
                return Results.Text(string.Create(CultureInfo.InvariantCulture, $"alert {id} is not among the {_state.Limits.RecentAlerts} most recent alerts the dashboard keeps.\n"), "text/plain; charset=utf-8", statusCode: 404);
            }

            var record = await _ledger.FindAsync(alert, cancel).ConfigureAwait(false);
            return JsonResult(new { alert, ledger = new { description = _ledger.Description, recorded = record is not null, record } });
        });
        // No card is an expected state of a stored run, not an error: the page says why instead of logging a 404.
        _app.MapGet("/api/model", () => _model is null
            ? JsonResult(new { available = false, reason = "this run names no readable model artifact (give --model)." })
            : JsonResult(new { available = true, _model.Source, _model.Sha256, signed = _model.IsSigned, _model.Manifest }));
        _app.MapGet("/api/events", StreamAsync);
        // Browsers ask for it on their own; an empty answer keeps their consoles free of 404s.
        _app.MapGet("/favicon.ico", () => Results.NoContent());
        _app.MapFallback((HttpContext ctx) => Results.Text("not found\n", "text/plain; charset=utf-8", statusCode: 404));
    }

    private static IResult JsonResult(object value) =>
        Results.Text(JsonSerializer.Serialize(value, Json), "application/json; charset=utf-8");

    private static bool TryFilter(HttpContext ctx, out AlertFilter? filter, out IResult? problem)
    {
        try
        {
            filter = AlertFilter.Parse(ctx.Request.Query["class"], ctx.Request.Query["src"], ctx.Request.Query["severity"]);
            problem = null;
            return true;
        }
        catch (ArgumentException ex)
        {
            filter = null;
            problem = Results.Text(ex.Message + "\n", "text/plain; charset=utf-8", statusCode: 400);
            return false;
        }
    }

    private async Task GuardAsync(HttpContext ctx, RequestDelegate next)
    {
        var h = ctx.Response.Headers;
        h.ContentSecurityPolicy = ContentSecurityPolicy;
        h.XContentTypeOptions = "nosniff";
        h.XFrameOptions = "DENY";
        h["Referrer-Policy"] = "no-referrer";
        h["Cross-Origin-Opener-Policy"] = "same-origin";
        h["Cross-Origin-Resource-Policy"] = "same-origin";
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), usb=(), payment=()";
        h.CacheControl = "no-store";

        if (!HttpMethods.IsGet(ctx.Request.Method) && !HttpMethods.IsHead(ctx.Request.Method))
        {
            ctx.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            await ctx.Response.WriteAsync("the dashboard is read-only: GET only.\n", ctx.RequestAborted).ConfigureAwait(false);
            return;
        }

        if (_options.IsLoopback && !IsLoopbackHost(ctx.Request.Host.Host))
        {
            // A page on another site that resolves its own name to 127.0.0.1 (DNS rebinding) sends its own Host header.
            ctx.Response.StatusCode = StatusCodes.Status421MisdirectedRequest;
            await ctx.Response.WriteAsync("this dashboard answers to 127.0.0.1, [::1] or localhost only.\n", ctx.RequestAborted).ConfigureAwait(false);
            return;
        }

        if (_tokenBytes is not null)
        {
            string? query = ctx.Request.Query["token"];
            if (query is not null && TokenMatches(query))
            {
                ctx.Response.Cookies.Append(TokenCookie, _options.Token!, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/", IsEssential = true });
                ctx.Response.Redirect(ctx.Request.Path.HasValue ? ctx.Request.Path.Value! : "/");
                return;
            }

            string? bearer = ctx.Request.Headers.Authorization.FirstOrDefault();
            bool ok = (bearer is not null && bearer.StartsWith("Bearer ", StringComparison.Ordinal) && TokenMatches(bearer[7..]))
                || (ctx.Request.Cookies.TryGetValue(TokenCookie, out var cookie) && TokenMatches(cookie));
            if (!ok)
            {
                ctx.Response.StatusCode = StatusCodes.Status401Unauthorized;
                await ctx.Response.WriteAsync("this dashboard needs its token: open the URL printed at start (…/?token=…) or send Authorization: Bearer TOKEN.\n", ctx.RequestAborted).ConfigureAwait(false);
                return;
            }
        }

        await next(ctx).ConfigureAwait(false);
    }

    private bool TokenMatches(string candidate) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate), _tokenBytes);

    private static bool IsLoopbackHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    private async Task StreamAsync(HttpContext ctx)
    {
        if (!TryFilter(ctx, out var filter, out var problem))
        {
            await problem!.ExecuteAsync(ctx).ConfigureAwait(false);
            return;
        }

        if (Interlocked.Increment(ref _streams) > _options.MaxStreams)
        {
            Interlocked.Decrement(ref _streams);
            ctx.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await ctx.Response.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"{_options.MaxStreams} pages are streaming already.\n"), ctx.RequestAborted).ConfigureAwait(false);
            return;
        }

        var lifetime = ctx.RequestServices.GetRequiredService<IHostApplicationLifetime>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, lifetime.ApplicationStopping);
        using var subscription = _state.Subscribe(filter!);
        try
        {
            ctx.Response.ContentType = "text/event-stream; charset=utf-8";
            ctx.Response.Headers["X-Accel-Buffering"] = "no";
            var body = ctx.Response.Body;
            await WriteAsync(body, "retry: 2000\n\n", stop.Token).ConfigureAwait(false);
            await WriteEventAsync(body, "stats", _state.Stats(), stop.Token).ConfigureAwait(false);
            using var timer = new PeriodicTimer(_options.PushInterval);
            long lastStats = Environment.TickCount64;
            while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
            {
                var (alerts, skipped) = subscription.Take(_options.MaxAlertsPerPush);
                if (alerts.Count > 0 || skipped > 0)
                {
                    await WriteEventAsync(body, "alerts", new { alerts, skipped }, stop.Token).ConfigureAwait(false);
                }

                if (Environment.TickCount64 - lastStats >= (long)_options.StatsInterval.TotalMilliseconds)
                {
                    lastStats = Environment.TickCount64;
                    await WriteEventAsync(body, "stats", _state.Stats(), stop.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The page went away or the server is stopping.
        }
        catch (IOException)
        {
            // The connection broke mid-write: the page reconnects by itself (EventSource retry).
        }
        finally
        {
            Interlocked.Decrement(ref _streams);
        }
    }

    private static async Task WriteEventAsync(Stream body, string name, object data, CancellationToken cancellationToken)
    {
        // JSON has no raw newlines, so one data: line carries the event.
        string json = JsonSerializer.Serialize(data, Json);
        await WriteAsync(body, "event: " + name + "\ndata: " + json + "\n\n", cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteAsync(Stream body, string text, CancellationToken cancellationToken)
    {
        await body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
        await body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static byte[] ReadResource(string name)
    {
        using var stream = typeof(DashboardServer).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"the dashboard asset '{name}' is not embedded.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
