using Spectre.Console;

namespace Stakeout.Cli;

/// <summary>Where the CLI writes: results to stdout, progress and errors to stderr (so stdout can be piped as JSON).</summary>
internal static class Terminal
{
    public static IAnsiConsole Out { get; } = CreateOut();

    public static IAnsiConsole Err { get; } = CreateErr();

    /// <summary>Progress bars only when a person watches stderr.</summary>
    public static bool ShowProgress => !Console.IsErrorRedirected && Err.Profile.Capabilities.Interactive;

    private static IAnsiConsole CreateOut()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected)
        {
            // Piped into a file or a pager: Spectre would assume 80 columns and wrap every table cell.
            console.Profile.Width = 200;
        }

        return console;
    }

    private static IAnsiConsole CreateErr()
    {
        // Spectre judges interactivity by stdin and stdout, so `inspect --json > report.json` would hide the progress
        // bar from the person watching stderr; stderr alone decides here.
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Error),
            Interactive = Console.IsErrorRedirected ? InteractionSupport.No : InteractionSupport.Yes,
        });
        if (Console.IsErrorRedirected)
        {
            // Logged or captured: an error message must stay on one line (grep-able), not wrap at 80 columns.
            console.Profile.Width = 4096;
        }

        return console;
    }

    /// <summary>Prints <paramref name="message"/> as the command's error and returns <paramref name="exitCode"/> (docs/user-guide.md, exit codes).</summary>
    public static int Fail(string message, int exitCode = 1)
    {
        if (Console.IsErrorRedirected)
        {
            // A log or a pipe: one line, not wrapped at 80 columns, so the file and line it names stay greppable.
            Console.Error.WriteLine($"error: {message}");
        }
        else
        {
            Err.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");
        }

        return exitCode;
    }

    /// <summary>Runs <paramref name="work"/> under a byte-based progress bar when a terminal is attached.</summary>
    public static T WithProgress<T>(string title, long total, Func<Action<long, string>, T> work)
    {
        if (!ShowProgress)
        {
            return work((_, _) => { });
        }

        T result = default!;
        Err.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: Math.Max(1, total));
                result = work((done, label) =>
                {
                    task.Value = done;
                    task.Description = Markup.Escape(label);
                });
                task.Value = task.MaxValue;
            });
        return result;
    }
}
