using System.CommandLine;
using Stakeout.Cli;

// First, before anything touches Console: a SIGINT ignored by the shell that started us is honoured (Signals.cs).
Signals.HonourInterruptIgnoredByParent();

var root = new RootCommand(
    """
    Stakeout: network threat detection from CICFlowMeter flow features.

    Examples:
      stakeout data inspect samples/
      stakeout data inspect ../shared/data/cicids2017 --json > report.json
      stakeout model show model.stakeout --trusted-key signing.pub
    """);
root.Subcommands.Add(DataCommands.Create());
root.Subcommands.Add(DatasetCommands.Create());
root.Subcommands.Add(FlowCommands.Create());
foreach (var command in ModelCommands.Create()) { root.Subcommands.Add(command); }
TrainCommands.AddTo(root);
root.Subcommands.Add(EvaluateCommands.Create());
foreach (var command in DetectCommands.Create()) { root.Subcommands.Add(command); }
foreach (var command in ClusterCommands.Create()) { root.Subcommands.Add(command); }
// The demo runs the documented commands themselves, in this process, so it shows exactly what a user types.
root.Subcommands.Add(DemoCommands.Create((args, cancel) => root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, cancel)));
root.Subcommands.Add(LedgerCommands.Create());
root.Subcommands.Add(DashboardCommands.Create());
// Ctrl-C/SIGTERM cancel the command's token; `monitor` then drains within its --shutdown-timeout, which
// System.CommandLine's grace must outlast (DetectCommands.TerminationGrace).
var parse = root.Parse(args);
return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = DetectCommands.TerminationGrace(parse) }).ConfigureAwait(false);
