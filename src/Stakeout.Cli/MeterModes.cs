using System.CommandLine.Parsing;
using Stakeout.FlowMeter.Flows;

namespace Stakeout.Cli;

/// <summary>Parses a flow-meter mode option the same way for `flows --mode` and `monitor --meter-mode`.</summary>
internal static class MeterModes
{
    /// <summary>A parser that reports a bad value as a usage error (not an exception) naming the option.</summary>
    public static Func<ArgumentResult, FlowMeterMode> Parser(string optionName) => r =>
    {
        switch (r.Tokens[0].Value.ToUpperInvariant())
        {
            case "CICFLOWMETER":
                return FlowMeterMode.CicFlowMeter;
            case "CORRECTED":
                return FlowMeterMode.Corrected;
            default:
                r.AddError($"{optionName} must be cicflowmeter or corrected, not '{r.Tokens[0].Value}'.");
                return FlowMeterMode.CicFlowMeter;
        }
    };
}
