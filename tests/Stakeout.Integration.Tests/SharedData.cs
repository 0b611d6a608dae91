namespace Stakeout.Integration.Tests;

/// <summary>
/// Finds ../shared/data beside the clone (CI has it). Tests that need it skip with a visible reason when it is absent.
/// STAKEOUT_SHARED_DATA overrides the location.
/// </summary>
internal static class SharedData
{
    private static readonly Lazy<string?> Root = new(Find);

    public static string? Directory => Root.Value;

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Path(params string[] parts)
    {
        Skip.If(Directory is null, "../shared/data is not beside this clone (set STAKEOUT_SHARED_DATA to its path to run this test).");
        return System.IO.Path.Combine([Directory!, .. parts]);
    }

    private static string? Find()
    {
        string? env = Environment.GetEnvironmentVariable("STAKEOUT_SHARED_DATA");
        if (!string.IsNullOrEmpty(env))
        {
            return System.IO.Directory.Exists(env) ? env : null;
        }

        string candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(RepoRoot, "..", "shared", "data"));
        return System.IO.Directory.Exists(candidate) ? candidate : null;
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Stakeout.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException($"No Stakeout.slnx above {AppContext.BaseDirectory}.");
    }
}
