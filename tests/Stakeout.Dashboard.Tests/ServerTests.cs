using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Stakeout.Dashboard.Tests;

/// <summary>The real Kestrel server on a free loopback port, driven over HTTP.</summary>
public sealed class ServerTests : IAsyncLifetime, IDisposable
{
    private const string Token = "test-token-0123456789abcdef";
    private readonly DashboardState _state = new(new DashboardLimits(), TimeProvider.System);
    private readonly HttpClient _http = new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(30) };
    private DashboardServer _open = null!;
    private DashboardServer _locked = null!;

    public async Task InitializeAsync()
    {
        _open = DashboardServer.Create(new DashboardOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), PushInterval = TimeSpan.FromMilliseconds(50) }, _state, null, new OneRecordLedger(), new DashboardRunInfo("test"));
        await _open.StartAsync(CancellationToken.None);
        _locked = DashboardServer.Create(new DashboardOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), Token = Token }, _state, null, null, new DashboardRunInfo("locked"));
        await _locked.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _open.DisposeAsync();
        await _locked.DisposeAsync();
    }

    public void Dispose() => _http.Dispose();

    [Theory]
    [InlineData("/")]
    [InlineData("/app.js")]
    [InlineData("/lib/echarts.min.js")]
    [InlineData("/api/stats")]
    [InlineData("/no/such/page")]
    public async Task Get_AnyPath_StrictCspAndSecurityHeaders(string path)
    {
        using var response = await _http.GetAsync(new Uri(_open.Url!, path));

        string csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
    }

    [Fact]
    public async Task Get_Page_HasNoInlineScriptOrStyle()
    {
        string html = await _http.GetStringAsync(_open.Url);

        Assert.Contains("<script src=\"/app.js\"", html, StringComparison.Ordinal);
        Assert.DoesNotMatch("<script>|<script [^>]*>[^<]+</script>|<style|\\sstyle=\"|\\son[a-z]+=\"", html);
    }

    [Fact]
    public async Task Get_EChartsBundle_IsTheNpmDistFile()
    {
        string js = await _http.GetStringAsync(new Uri(_open.Url!, "/lib/echarts.min.js"));
        Assert.True(js.Length > 500_000, $"echarts.min.js is {js.Length} characters");
        Assert.Contains("echarts", js, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_ForeignHostHeader_Refused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_open.Url!, "/api/stats"));
        request.Headers.Host = "attacker.example";
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
    }

    [Fact]
    public async Task Post_Anything_MethodNotAllowed()
    {
        using var response = await _http.PostAsync(new Uri(_open.Url!, "/api/stats"), new StringContent("x"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task Get_WithoutToken_Unauthorized_WithBearerOrCookie_Served()
    {
        var stats = new Uri(_locked.Url!, "/api/stats");
        using (var none = await _http.GetAsync(stats))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        }

        using (var wrong = new HttpRequestMessage(HttpMethod.Get, stats))
        {
            wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token + "x");
            Assert.Equal(HttpStatusCode.Unauthorized, (await _http.SendAsync(wrong)).StatusCode);
        }

        using (var bearer = new HttpRequestMessage(HttpMethod.Get, stats))
        {
            bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(bearer)).StatusCode);
        }

        using var visit = await _http.GetAsync(_locked.BrowserUrl);
        Assert.Equal(HttpStatusCode.Redirect, visit.StatusCode);
        Assert.Equal("/", visit.Headers.Location!.OriginalString);
        string cookie = Assert.Single(visit.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);

        using var withCookie = new HttpRequestMessage(HttpMethod.Get, stats);
        withCookie.Headers.Add("Cookie", cookie.Split(';')[0]);
        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(withCookie)).StatusCode);
    }

    [Fact]
    public async Task Get_BadFilter_BadRequestNamingIt()
    {
        using var response = await _http.GetAsync(new Uri(_open.Url!, "/api/alerts?severity=9"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("severity", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetDetail_RecordedAndUnknown_LedgerStatusAnd404()
    {
        var added = _state.Add(Fixtures.Alert("PortScan", "10.9.9.9"));

        using var doc = JsonDocument.Parse(await _http.GetStringAsync(new Uri(_open.Url!, "/api/alerts/" + added.Id)));
        var ledger = doc.RootElement.GetProperty("ledger");
        Assert.True(ledger.GetProperty("recorded").GetBoolean());
        Assert.Equal("verified", ledger.GetProperty("record").GetProperty("verification").GetString());
        Assert.Equal("Flow Duration", doc.RootElement.GetProperty("alert").GetProperty("explanation")[0].GetProperty("feature").GetString());

        using var locked = new HttpRequestMessage(HttpMethod.Get, new Uri(_locked.Url!, "/api/alerts/" + added.Id));
        locked.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var noLedger = JsonDocument.Parse(await (await _http.SendAsync(locked)).Content.ReadAsStringAsync());
        Assert.False(noLedger.RootElement.GetProperty("ledger").GetProperty("recorded").GetBoolean());

        using var missing = await _http.GetAsync(new Uri(_open.Url!, "/api/alerts/999999"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Events_AlertAdded_ArrivesOnTheStreamJsonEscaped()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var response = await _http.GetAsync(new Uri(_open.Url!, "/api/events?class=Bot"), HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel.Token));
        Assert.StartsWith("retry:", await reader.ReadLineAsync(cancel.Token), StringComparison.Ordinal);

        // Added once the stream is open (its first stats event is on the wire): a PortScan the filter hides, then a Bot.
        _state.Add(Fixtures.Alert("PortScan", "<b>hidden</b>"));
        _state.Add(Fixtures.Alert("Bot", "<img src=x onerror=alert(1)>"));
        string? data = null;
        while (data is null)
        {
            string line = await reader.ReadLineAsync(cancel.Token) ?? throw new InvalidOperationException("stream ended");
            if (line == "event: alerts")
            {
                data = await reader.ReadLineAsync(cancel.Token);
            }
        }

        Assert.StartsWith("data: ", data, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", data, StringComparison.Ordinal);
        Assert.DoesNotContain("hidden", data, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(data[6..]);
        var alert = Assert.Single(doc.RootElement.GetProperty("alerts").EnumerateArray());
        Assert.Equal("<img src=x onerror=alert(1)>", alert.GetProperty("src_ip").GetString());
        Assert.Equal("#e377c2", alert.GetProperty("color").GetString());
    }

    private sealed class OneRecordLedger : IAlertLedger
    {
        public string Description => "test ledger";

        public ValueTask<LedgerRecordStatus?> FindAsync(DashboardAlert alert, CancellationToken cancellationToken) =>
            ValueTask.FromResult<LedgerRecordStatus?>(new LedgerRecordStatus("bafy-test-" + alert.Id, "verified", "signature and inclusion proof checked", Fixtures.T0));
    }
}
