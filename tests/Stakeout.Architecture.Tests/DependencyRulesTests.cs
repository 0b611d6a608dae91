using System.Reflection;
using System.Xml.Linq;

namespace Stakeout.Architecture.Tests;

/// <summary>
/// The dependency rules of ARCHITECTURE.md, checked on the compiled assemblies and the project files. Every Stakeout
/// assembly must appear in <see cref="Allowed"/>: a new one fails here until its rule is written down.
/// </summary>
public sealed class DependencyRulesTests
{
    /// <summary>Which Stakeout assemblies each one may reference.</summary>
    private static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["Stakeout.Core"] = [],
        ["Stakeout.Ingest"] = ["Stakeout.Core"],
        ["Stakeout.Models"] = ["Stakeout.Core"], // all the detection runtime needs: no training code, no ML.NET
        ["Stakeout.FlowMeter"] = ["Stakeout.Core"], // packets to flows; libpcap stays inside it
        // Loads artifacts, never trains: a model reaches detection only as a file. FlowMeter joins when pcap sources land.
        ["Stakeout.Detection"] = ["Stakeout.Core", "Stakeout.Ingest", "Stakeout.Models", "Stakeout.FlowMeter"],
        ["Stakeout.Training"] = ["Stakeout.Core", "Stakeout.Ingest", "Stakeout.Models", "Stakeout.Evaluation"], // ML.NET stays inside; its reports use Evaluation's metrics
        ["Stakeout.Datasets"] = ["Stakeout.Core"], // the only assembly that downloads data: nothing else reaches the network for it
        ["Stakeout.Ledger"] = ["Stakeout.Core"], // threat records, Merkle log, signatures, blocks: no detection or training code
        ["Stakeout.Ledger.Ipfs"] = ["Stakeout.Core", "Stakeout.Ledger"], // the ledger's IPFS edge: the RPC client, its resilience package and the replication queues
        ["Stakeout.Evaluation"] = ["Stakeout.Core", "Stakeout.Ingest", "Stakeout.Models"], // metrics without ML.NET: training and the CLI share it
        ["stakeout"] = ["Stakeout.Core", "Stakeout.Ingest", "Stakeout.Models", "Stakeout.Training", "Stakeout.FlowMeter", "Stakeout.Evaluation", "Stakeout.Detection", "Stakeout.Datasets", "Stakeout.Ledger", "Stakeout.Ledger.Ipfs", "Stakeout.Dashboard", "Stakeout.Cluster", "Stakeout.Reports"], // the CLI composes everything
        ["Stakeout.Dashboard"] = ["Stakeout.Core", "Stakeout.Models", "Stakeout.Detection"], // ASP.NET Core stays inside; reads alerts and counters, never trains
        ["Stakeout.Cluster"] = ["Stakeout.Core", "Stakeout.Models", "Stakeout.Detection", "Stakeout.Ingest", "Stakeout.FlowMeter", "Stakeout.Ledger"], // NATS JetStream stays inside; workers score with Detection's scorer and policy; the ledger writer appends into the threat ledger
        // Pictures of what the others measured: reads their results, computes no metric of its own; ScottPlot stays inside.
        ["Stakeout.Reports"] = ["Stakeout.Core", "Stakeout.Ingest", "Stakeout.Models", "Stakeout.Evaluation", "Stakeout.Detection"],
    };

    /// <summary>Third-party packages each project may reference: they stay at the edge that needs them.</summary>
    private static readonly Dictionary<string, string[]> AllowedPackages = new(StringComparer.Ordinal)
    {
        ["Stakeout.Core"] = [],
        ["Stakeout.Ingest"] = ["System.IO.Hashing"],
        ["Stakeout.Models"] = ["NSec.Cryptography"],
        ["Stakeout.FlowMeter"] = ["SharpPcap"],
        ["Stakeout.Detection"] = ["Microsoft.Extensions.Logging.Abstractions", "System.IO.Hashing"],
        ["Stakeout.Training"] = ["Microsoft.ML", "Microsoft.ML.LightGbm"],
        ["Stakeout.Evaluation"] = [],
        ["Stakeout.Ledger"] = ["NSec.Cryptography"],
        ["Stakeout.Reports"] = ["ScottPlot"],
        ["Stakeout.Datasets"] = [],
        ["Stakeout.Ledger.Ipfs"] = ["Polly.Core", "Microsoft.Extensions.Logging.Abstractions"],
        ["Stakeout.Dashboard"] = [], // ASP.NET Core is a framework reference; the charting library is embedded from npm at build
        ["Stakeout.Cluster"] = ["NATS.Client.JetStream", "Microsoft.Extensions.Logging.Abstractions"],
        ["Stakeout.Cli"] = ["System.CommandLine", "Spectre.Console", "Microsoft.Extensions.Logging.Abstractions"],
    };

    public static TheoryData<string> Assemblies => new(Allowed.Keys);

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void References_StakeoutAssembly_OnlyAllowedStakeoutAssemblies(string name)
    {
        var assembly = Load(name);
        var stakeoutRefs = assembly.GetReferencedAssemblies()
            .Select(a => a.Name!)
            .Where(IsStakeout)
            .ToList();

        var forbidden = stakeoutRefs.Except(Allowed[name]).ToList();
        Assert.True(forbidden.Count == 0, $"{name} references {string.Join(", ", forbidden)}, which ARCHITECTURE.md does not allow.");
    }

    [Fact]
    public void Detection_NeverReferencesTraining()
    {
        // ARCHITECTURE.md: "Detection never references Training" - checked on the compiled assembly and its project file.
        var refs = Load("Stakeout.Detection").GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.DoesNotContain(refs, r => r.StartsWith("Stakeout.Training", StringComparison.Ordinal) || r.StartsWith("Microsoft.ML", StringComparison.Ordinal));

        string csproj = Path.Combine(RepoRoot(), "src", "Stakeout.Detection", "Stakeout.Detection.csproj");
        var projectRefs = XDocument.Load(csproj).Descendants("ProjectReference").Select(e => (string)e.Attribute("Include")!).ToList();
        Assert.DoesNotContain(projectRefs, p => p.Contains("Stakeout.Training", StringComparison.Ordinal));
    }

    [Fact]
    public void Core_ReferencesOnlyTheFramework()
    {
        var refs = Load("Stakeout.Core").GetReferencedAssemblies().Select(a => a.Name!).ToList();

        var foreign = refs.Where(r => !r.StartsWith("System", StringComparison.Ordinal) && r != "netstandard" && r != "mscorlib").ToList();
        Assert.True(foreign.Count == 0, $"Stakeout.Core references {string.Join(", ", foreign)}; Core references nothing but the framework.");
    }

    [Theory]
    [InlineData("Stakeout.Core")]
    [InlineData("Stakeout.Ingest")]
    [InlineData("Stakeout.Models")]
    [InlineData("Stakeout.FlowMeter")]
    [InlineData("Stakeout.Detection")]
    [InlineData("Stakeout.Training")]
    [InlineData("Stakeout.Evaluation")]
    [InlineData("Stakeout.Ledger")]
    [InlineData("Stakeout.Reports")]
    [InlineData("Stakeout.Datasets")]
    [InlineData("Stakeout.Ledger.Ipfs")]
    [InlineData("Stakeout.Dashboard")]
    [InlineData("Stakeout.Cluster")]
    [InlineData("Stakeout.Cli")]
    public void ProjectFile_PackageReferences_StayAtTheirEdge(string project)
    {
        string csproj = Path.Combine(RepoRoot(), "src", project, project + ".csproj");
        var packages = XDocument.Load(csproj).Descendants("PackageReference").Select(e => (string)e.Attribute("Include")!).ToList();

        var extra = packages.Except(AllowedPackages[project]).ToList();
        Assert.True(extra.Count == 0, $"{project} references packages {string.Join(", ", extra)}; update the rule only if that edge really needs them.");
    }

    [Fact]
    public void EveryStakeoutAssemblyInOutput_HasARule()
    {
        var found = Directory.GetFiles(AppContext.BaseDirectory, "*.dll")
            .Select(Path.GetFileNameWithoutExtension)
            .Where(n => n is not null && IsStakeout(n) && !n.EndsWith(".Tests", StringComparison.Ordinal))
            .ToList();

        Assert.NotEmpty(found);
        var missing = found.Where(n => !Allowed.ContainsKey(n!)).ToList();
        Assert.True(missing.Count == 0, $"No dependency rule for {string.Join(", ", missing)}; add it to {nameof(Allowed)}.");
    }

    [Fact]
    public void PublicTypes_InLibraries_AreSealedOrAbstractOrStatic()
    {
        var open = new[] { "Stakeout.Core", "Stakeout.Ingest", "Stakeout.Models", "Stakeout.Evaluation", "Stakeout.Detection", "Stakeout.Dashboard", "Stakeout.Cluster", "Stakeout.Reports" }
            .SelectMany(n => Load(n).GetExportedTypes())
            .Where(t => t.IsClass && !t.IsSealed && !t.IsAbstract && !typeof(Delegate).IsAssignableFrom(t))
            .Select(t => t.FullName)
            .ToList();

        Assert.True(open.Count == 0, $"Public classes must be sealed (or abstract/static by design): {string.Join(", ", open)}.");
    }

    private static bool IsStakeout(string name) =>
        name.StartsWith("Stakeout.", StringComparison.Ordinal) || name == "stakeout";

    private static Assembly Load(string name) => Assembly.LoadFrom(Path.Combine(AppContext.BaseDirectory, name + ".dll"));

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Stakeout.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Stakeout.slnx not found above the test output.");
    }
}
