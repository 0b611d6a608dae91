using System.Globalization;
using Stakeout.Fuzz;

// Usage: dotnet run -c Release --project bench/Stakeout.Fuzz -- [--target csv|pcap|artifact|artifact-sections|all]
//        [--inputs N] [--seed S] [--shared-data DIR] [--hang-ms MS] [--max-alloc-mb MB] [--replay FILE]
// Exit code 0: no finding; 1: findings (saved under artifacts/fuzz-findings/); 2: usage.
string target = "all", shared = "", findings = "";
long inputs = 100_000;
int seed = 1;
double hangMs = 2000, allocMb = 512;
string? replay = null;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--target": target = Next(); break;
        case "--inputs": inputs = long.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--shared-data": shared = Next(); break;
        case "--hang-ms": hangMs = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--max-alloc-mb": allocMb = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--findings": findings = Next(); break;
        case "--replay": replay = Next(); break;
        default:
            Console.Error.WriteLine($"unknown option {args[i]}");
            return 2;
    }
}

string repo = FindRepoRoot();
shared = shared.Length > 0 ? shared : Path.GetFullPath(Path.Combine(repo, "..", "shared", "data"));
findings = findings.Length > 0 ? findings : Path.Combine(repo, "artifacts", "fuzz-findings");
using var csv = new CsvTarget();
using var dashboard = new DashboardQueryTarget();
FuzzTarget[] all = [csv, new PcapTarget(), new ArtifactTarget(), new ArtifactSectionsTarget(), new LedgerRecordTarget(), new LedgerCheckpointTarget(), new LedgerBlocksTarget(), new FlowBatchTarget(), dashboard];
var chosen = target == "all" ? all : all.Where(t => t.Name == target).ToArray();
if (chosen.Length == 0)
{
    Console.Error.WriteLine($"unknown target {target}; known: {string.Join(", ", all.Select(t => t.Name))}, all");
    return 2;
}

if (replay is not null)
{
    var t = chosen[0];
    t.LoadCorpus(shared, repo);
    Console.WriteLine($"{t.Name} on {replay}: {t.Run(File.ReadAllBytes(replay))}");
    return 0;
}

var runner = new FuzzRunner(TimeSpan.FromMilliseconds(hangMs), (long)(allocMb * 1048576), findings);
int total = 0;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fuzz: seed {seed}, {inputs:N0} mutated inputs per target, seeds from {shared}"));
foreach (var t in chosen)
{
    var corpus = t.LoadCorpus(shared, repo);
    var report = runner.Run(t, corpus, seed, inputs, Console.Error.WriteLine);
    Console.WriteLine(report.Line() + $"  ({corpus.Count} seeds; {t.Description})");
    foreach (string f in report.Findings)
    {
        Console.WriteLine("  finding " + f);
    }

    total += report.Findings.Count;
}

Console.WriteLine(total == 0 ? "fuzz: no findings" : $"fuzz: {total} findings (inputs saved in {findings}; replay with --target T --replay FILE)");
return total == 0 ? 0 : 1;

static string FindRepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Stakeout.slnx")))
        {
            return dir.FullName;
        }
    }

    return Directory.GetCurrentDirectory();
}
