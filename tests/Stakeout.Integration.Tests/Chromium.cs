using Microsoft.Playwright;

namespace Stakeout.Integration.Tests;

/// <summary>
/// Debian's Chromium (/usr/bin/chromium, installed by test.sh) driven by Playwright for .NET. Playwright never downloads a
/// browser here: the executable is given and PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD is set. Skips with the reason when Chromium
/// is absent.
/// </summary>
internal sealed class Chromium : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;

    private Chromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    /// <summary>Where screenshots go: artifacts/test-results/dashboard under the repository (CI keeps artifacts/).</summary>
    public static string ScreenshotDirectory
    {
        get
        {
            string dir = Path.Combine(SharedData.RepoRoot, "artifacts", "test-results", "dashboard");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    public static async Task<Chromium> LaunchAsync()
    {
        Skip.IfNot(File.Exists(Executable), $"{Executable} is not installed (test.sh installs Debian's chromium package).");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_BROWSERS_PATH", "0");
        // The machine may be busy (CI, other builds): waits are generous, and each one still ends by itself.
        Assertions.SetDefaultExpectTimeout(60_000);
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Executable,
                Headless = true,
                Timeout = 60_000,
                Args = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"],
            });
            return new Chromium(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A fresh page of 1400x1100 whose console errors and CSP violations are collected in <paramref name="problems"/>.</summary>
    public async Task<IPage> NewPageAsync(List<string> problems)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1100 } });
        context.SetDefaultTimeout(60_000);
        var page = await context.NewPageAsync();
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                lock (problems)
                {
                    problems.Add(m.Text);
                }
            }
        };
        page.PageError += (_, e) =>
        {
            lock (problems)
            {
                problems.Add("page error: " + e);
            }
        };
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.CloseAsync();
        _playwright.Dispose();
    }
}
