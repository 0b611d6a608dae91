using BenchmarkDotNet.Running;
using Stakeout.Benchmarks;

// Two end-to-end tools for bench/reader/run.sh, then BenchmarkDotNet for the micro benchmarks.
return args switch
{
    ["generate-cic", .. var rest] => CicLargeFile.Run(rest),
    ["read", .. var rest] => ReaderRun.Run(rest),
    _ => RunMicro(args),
};

static int RunMicro(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(CicLargeFile).Assembly).Run(args);
    return 0;
}
