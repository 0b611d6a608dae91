using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Stakeout.Core;
using Stakeout.Ingest;

namespace Stakeout.Cli;

/// <summary>`stakeout data ...`: look at flow data before training on it.</summary>
internal static class DataCommands
{
    public static Command Create()
    {
        var data = new Command("data", "Read and inspect flow data (CIC-IDS2017, CICFlowMeter, CSE-CIC-IDS2018 CSVs).");
        data.Subcommands.Add(CreateInspect());
        return data;
    }

    private static Command CreateInspect()
    {
        var paths = new Argument<string[]>("PATH")
        {
            Description = "Flow CSV files or directories (searched recursively for *.csv, *.csv.gz, *.zip). Either path separator works.",
            Arity = ArgumentArity.OneOrMore,
        };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON on stdout instead of tables." };
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Also write the JSON report to this file." };
        var nonFinite = new Option<NonFinitePolicy>("--non-finite")
        {
            Description = "What to do with Infinity, NaN and empty feature cells: keep (as parsed), missing (NaN), zero, drop (the row).",
            DefaultValueFactory = _ => NonFinitePolicy.Keep,
        };
        var duplicates = new Option<DuplicatePolicy>("--duplicates")
        {
            Description = "Exact duplicate rows (same features and label, across files): ignore, count, or drop.",
            DefaultValueFactory = _ => DuplicatePolicy.Count,
        };
        var strict = new Option<bool>("--strict") { Description = "Stop at the first bad row instead of counting it." };
        var maxRejects = new Option<int>("--max-rejects") { Description = "How many rejected rows to list in full.", DefaultValueFactory = _ => 1000 };
        var report = ReportOptions.DataReportOption();
        var reportFeatures = ReportOptions.DataReportFeaturesOption();

        var inspect = new Command(
            "inspect",
            """
            Read flow CSVs and report what is in them: files and their layouts, rows read/used/rejected/dropped with reasons,
            class counts (original labels, families, benign/attack), quirks found, and per-feature min/max/mean/non-finite counts.

            Examples:
              stakeout data inspect samples/
              stakeout data inspect ../shared/data/cicids2017 ../shared/data/cicids2017-families --json
              stakeout data inspect MachineLearningCSV.zip --non-finite drop -o report.json
              stakeout data inspect 'C:\data\Monday-WorkingHours.pcap_ISCX.csv'
              stakeout data inspect ../shared/data/cicids2017 --report reports/ --report-features all
            """)
        {
            paths, json, output, nonFinite, duplicates, strict, maxRejects, report, reportFeatures,
        };

        inspect.SetAction(parse =>
        {
            var options = new FlowReaderOptions
            {
                NonFinite = parse.GetValue(nonFinite),
                Duplicates = parse.GetValue(duplicates),
                Strict = parse.GetValue(strict),
                MaxRejectDetails = parse.GetValue(maxRejects),
                SkipBadFiles = !parse.GetValue(strict),
            };
            var reportRequest = ReportOptions.DataRequest(parse.GetValue(report), parse.GetValue(reportFeatures));
            return reportRequest is { Error: { } error } ? Terminal.Fail(error) : Inspect(parse.GetValue(paths)!, options, parse.GetValue(json), parse.GetValue(output), reportRequest);
        });
        return inspect;
    }

    private static int Inspect(string[] paths, FlowReaderOptions options, bool asJson, FileInfo? output, DataReportRequest? reportRequest)
    {
        var sample = reportRequest is null ? null : new Stakeout.Reports.DataSample();
        FlowRead read;
        FeatureProfile profile;
        var started = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            read = new FlowCsvReader(options).Open(paths);
            // The report's sample sees each batch as the reader hands it out; the profile runs on every core.
            profile = Terminal.WithProgress("Reading", read.TotalBytes, report => FeatureProfile.Collect(
                read.ReadBatches(new Progress(report)).Select(batch =>
                {
                    sample?.Add(batch, read.Labels);
                    return batch;
                })));
        }
        catch (FlowDataException ex)
        {
            return Terminal.Fail(ex.Message, ExitCodes.For(ex));
        }
        catch (ArgumentException ex)
        {
            return Terminal.Fail(ex.Message);
        }

        started.Stop();
        var report = read.Report;
        var document = new InspectDocument(
            report.Files, report.RowsRead, report.RowsUsed, report.RowsRejected, report.RowsDropped, report.IsBalanced,
            report.RejectedByReason.ToDictionary(kv => Snake(kv.Key), kv => kv.Value),
            report.DroppedByReason.ToDictionary(kv => Snake(kv.Key), kv => kv.Value),
            report.Duplicates,
            report.Classes, report.ClassesAt(LabelLevel.Family), report.ClassesAt(LabelLevel.Binary),
            report.Quirks, report.Rejects, profile.Results(), Math.Round(started.Elapsed.TotalSeconds, 3));

        string text = JsonSerializer.Serialize(document, Json.Options);
        if (output is not null)
        {
            File.WriteAllText(output.FullName, text + "\n");
        }

        if (asJson)
        {
            Console.Out.WriteLine(text);
        }
        else
        {
            InspectView.Render(Terminal.Out, document);
        }

        int written = reportRequest is null ? 0 : ReportOptions.WriteData(reportRequest, new Stakeout.Reports.DataReportInput(report, document.Features, sample!));
        if (written != 0)
        {
            return written;
        }

        // Everything is reported above, but a file that could not be read at all is bad input (exit code 2), so that a
        // script does not take an inspection of nothing for a clean one.
        long unreadable = report.Quirks.TryGetValue("unreadable_file", out long n) ? n : 0;
        return unreadable == 0 ? 0 : Terminal.Fail(string.Create(CultureInfo.InvariantCulture, $"{unreadable} of {report.Files.Count} file(s) could not be read as flow data; each file's note says why."), ExitCodes.BadInput);
    }


    private static string Snake<T>(T value)
        where T : struct, Enum => JsonSerializer.Serialize(value, Json.Options).Trim('"');

    private sealed class Progress(Action<long, string> report) : IProgress<ReadProgress>
    {
        public void Report(ReadProgress value) => report(value.BytesDone, $"{Path.GetFileName(value.File)} · {value.RowsRead.ToString("N0", CultureInfo.InvariantCulture)} rows");
    }
}

/// <summary>The JSON document of `data inspect`: field names are part of the CLI's contract.</summary>
internal sealed record InspectDocument(
    IReadOnlyList<FileReport> Files,
    long RowsRead,
    long RowsUsed,
    long RowsRejected,
    long RowsDropped,
    bool Balanced,
    IReadOnlyDictionary<string, long> RejectedByReason,
    IReadOnlyDictionary<string, long> DroppedByReason,
    long Duplicates,
    IReadOnlyDictionary<string, long> Classes,
    IReadOnlyDictionary<string, long> Families,
    IReadOnlyDictionary<string, long> Binary,
    IReadOnlyDictionary<string, long> Quirks,
    IReadOnlyList<RejectedRow> Rejects,
    IReadOnlyList<FeatureStats> Features,
    double Seconds);
