using System.CommandLine;
using System.Globalization;
using Stakeout.Dashboard;
using Stakeout.Detection;
using Stakeout.Models;

namespace Stakeout.Cli;

/// <summary>`stakeout dashboard` (a stored run) and the `--dashboard` option of `stakeout monitor` (a live one).</summary>
internal static class DashboardCommands
{
    public static Command Create()
    {
        var run = new Argument<string>("RUN_DIR") { Description = "The output directory of a detect or monitor run (alerts.json, its rotated files, summary.json)." };
        var listen = new Option<string>("--listen", "-l") { Description = "ADDRESS:PORT to serve on. Loopback needs nothing; any other address needs --token.", DefaultValueFactory = _ => "127.0.0.1:8080" };
        var token = TokenOption("--token");
        var model = new Option<string?>("--model", "-m") { Description = "The model artifact for the model card (default: the one summary.json names, when it is readable)." };
        var ledger = new Option<string?>("--ledger") { Description = "The threat ledger directory the run wrote (monitor --ledger): each alert's detail shows its record and verifies it." };
        var trustedKey = new Option<string?>("--trusted-key") { Description = "The sensor's Ed25519 public key to verify the ledger with (default: the ledger directory's own sensor.pub, with a warning)." };
        var command = new Command(
            "dashboard",
            """
            Serve a finished detect or monitor run as the dashboard: alerts over time by class, top talkers, the alert
            stream with filters, each alert's explanation, and the model card. Ctrl-C stops it.

            Examples:
              stakeout dashboard out/
              stakeout dashboard out/ --listen 127.0.0.1:9000 --model model.stakeout
              stakeout dashboard out/ --listen 0.0.0.0:8080 --token generate
              stakeout dashboard out/ --ledger ledger/ --trusted-key sensor.pub
            """)
        {
            run, listen, token, model, ledger, trustedKey,
        };
        command.SetAction((parse, cancel) => ServeStoredAsync(parse.GetValue(run)!, parse.GetValue(listen)!, parse.GetValue(token), parse.GetValue(model), (parse.GetValue(ledger), parse.GetValue(trustedKey)), cancel));
        return command;
    }

    /// <summary>The `--dashboard-token` (or `--token`) option: a token, or "generate".</summary>
    public static Option<string?> TokenOption(string name) => new(name)
    {
        Description = "Access token for the dashboard (at least 16 characters), or 'generate' for a random one printed at start. Required off loopback.",
    };

    /// <summary>Parses the listen address and token into validated options (a non-loopback address without a token throws).</summary>
    public static DashboardOptions Options(string listen, string? token, string option, string tokenOption) => new DashboardOptions
    {
        Listen = DashboardOptions.ParseEndpoint(listen, option),
        TokenOptionName = tokenOption,
        Token = token is null ? null : token == "generate" ? DashboardOptions.GenerateToken() : token,
    }.Validate();

    /// <summary>Starts the dashboard of a live monitor, fed by <paramref name="hub"/> and the pipeline's counters.</summary>
    public static async Task<LiveDashboard> StartLiveAsync(DashboardOptions options, DetectionPipeline pipeline, AlertHub hub, string modelPath, string source, IAlertLedger? ledger, CancellationToken cancel)
    {
        var state = new DashboardState(new DashboardLimits(), TimeProvider.System);
        var model = pipeline.Model.Current;
        state.DeclareClasses(model.Scorer.Classes.Where((_, i) => i != model.Scorer.BenignClassIndex));
        var card = ModelCards.FromArtifact(modelPath);
        var server = DashboardServer.Create(options, state, card, ledger, new DashboardRunInfo("monitor " + source));
        await server.StartAsync(cancel).ConfigureAwait(false);
        var stop = new CancellationTokenSource();
        var subscription = hub.Subscribe();
        var pump = LiveFeed.PumpAlertsAsync(subscription, state, stop.Token);
        var sampler = LiveFeed.SampleCountersAsync(pipeline.Counters, state, TimeSpan.FromSeconds(1), TimeProvider.System, stop.Token);
        await Console.Error.WriteLineAsync($"dashboard on {server.BrowserUrl}").ConfigureAwait(false);
        return new LiveDashboard(server, subscription, stop, pump, sampler);
    }

    private static async Task<int> ServeStoredAsync(string runDir, string listen, string? token, string? modelPath, (string? Dir, string? TrustedKey) ledgerSource, CancellationToken cancel)
    {
        DashboardServer server;
        try
        {
            var options = Options(listen, token, "--listen", "--token");
            var (state, report) = StoredRun.Load(runDir, new DashboardLimits(), TimeProvider.System, cancel);
            ModelCard? card = null;
            string? path = modelPath ?? report.ModelPath;
            if (path is not null && (modelPath is not null || File.Exists(path)))
            {
                card = ModelCards.FromArtifact(path);
            }

            IAlertLedger ledger = NoLedger.Instance;
            if (ledgerSource.Dir is not null)
            {
                var (view, sealedCount) = await LedgerCommands.DashboardLedger.OpenStoredAsync(ledgerSource.Dir, ledgerSource.TrustedKey, cancel).ConfigureAwait(false);
                ledger = view;
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"ledger: {view.Indexed:N0} record(s) indexed{(sealedCount > 0 ? $"; {sealedCount:N0} sealed record(s) cannot be matched to alerts without opening them" : "")}")).ConfigureAwait(false);
            }

            server = DashboardServer.Create(options, state, card, ledger, new DashboardRunInfo("run " + Path.GetFullPath(runDir), report));
            await server.StartAsync(cancel).ConfigureAwait(false);
            await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"read {report.Alerts:N0} alert(s) from {report.Files.Count} file(s), {report.Lines:N0} line(s) ({report.OtherEvents:N0} other events, {report.BlankLines:N0} blank); model card: {(card is null ? "none (give --model)" : card.Source)}")).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"dashboard on {server.BrowserUrl} (Ctrl-C stops)").ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or InvalidDataException or ArtifactException or System.Text.Json.JsonException or UnauthorizedAccessException or FormatException)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return 1;
        }

        await using (server.ConfigureAwait(false))
        {
            try
            {
                await Task.Delay(Timeout.Infinite, cancel).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                // Ctrl-C or SIGTERM: stop serving.
            }
        }

        return 0;
    }

    /// <summary>A running live dashboard; disposing it stops the feed and the server.</summary>
    internal sealed class LiveDashboard(DashboardServer server, AlertHub.Subscription subscription, CancellationTokenSource stop, Task pump, Task sampler) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync().ConfigureAwait(false);
            subscription.Dispose();
            await Task.WhenAll(pump, sampler).ConfigureAwait(false);
            await server.DisposeAsync().ConfigureAwait(false);
            stop.Dispose();
        }
    }
}
