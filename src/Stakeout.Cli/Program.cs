using System.CommandLine;
using Stakeout.Cli;

var root = new RootCommand(
    """
    Stakeout: network threat detection from CICFlowMeter flow features.

    Examples:
      stakeout data inspect samples/
      stakeout data inspect ../shared/data/cicids2017 --json > report.json
      stakeout model show model.stakeout --trusted-key signing.pub
    """);
root.Subcommands.Add(DataCommands.Create());
root.Subcommands.Add(FlowCommands.Create());
foreach (var command in ModelCommands.Create()) { root.Subcommands.Add(command); }
TrainCommands.AddTo(root);
root.Subcommands.Add(EvaluateCommands.Create());
foreach (var command in DetectCommands.Create()) { root.Subcommands.Add(command); }
foreach (var command in ClusterCommands.Create()) { root.Subcommands.Add(command); }
// Ctrl-C/SIGTERM cancel the command's token; `monitor` then drains in-flight flows and its sinks (up to 10 s), which
// System.CommandLine's default 2 s grace would cut short.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) }).ConfigureAwait(false);
