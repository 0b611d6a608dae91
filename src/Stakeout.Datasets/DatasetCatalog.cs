namespace Stakeout.Datasets;

/// <summary>One downloadable archive of a public dataset.</summary>
/// <param name="Dataset">The dataset's name on the command line, e.g. <c>cicids2017</c>.</param>
/// <param name="Variant">Which archive of it, e.g. <c>machinelearning</c>.</param>
/// <param name="Url">The publisher's location (overridable with <c>--url</c>).</param>
/// <param name="FileName">The archive's file name once downloaded.</param>
/// <param name="ChecksumUrl">Where the publisher lists an MD5 of the archive, if anywhere.</param>
/// <param name="KnownSize">The archive's size in bytes when it is recorded in this repository; null when unknown.</param>
/// <param name="KnownSha256">The archive's SHA-256 (lower-case hex) when recorded; null when unknown.</param>
/// <param name="Description">What the archive holds.</param>
public sealed record DatasetSource(
    string Dataset,
    string Variant,
    Uri Url,
    string FileName,
    Uri? ChecksumUrl,
    long? KnownSize,
    string? KnownSha256,
    string Description);

/// <summary>The datasets Stakeout knows how to fetch. Data, not code: a new archive is a new row.</summary>
public static class DatasetCatalog
{
    private const string CicBase = "http://cicresearch.ca/CICDataset/CIC-IDS-2017/Dataset/CIC-IDS-2017/CSVs/";

    /// <summary>Every known archive.</summary>
    /// <remarks>
    /// No size or SHA-256 of the CIC archives is recorded here: none could be measured from this repository's build
    /// machines, and the publisher lists only MD5s. The first download therefore writes a lock file that every later
    /// download must match (docs/datasets.md), and the publisher's MD5 is checked when it can be fetched.
    /// </remarks>
    public static IReadOnlyList<DatasetSource> All { get; } =
    [
        new("cicids2017", "machinelearning", new Uri(CicBase + "MachineLearningCSV.zip"), "MachineLearningCSV.zip",
            new Uri(CicBase + "MachineLearningCSV.md5"), null, null,
            "CIC-IDS2017 MachineLearningCVE: 8 day files, 78 features + Label, no identities (~2.8 M flows)"),
        new("cicids2017", "trafficlabelling", new Uri(CicBase + "GeneratedLabelledFlows.zip"), "GeneratedLabelledFlows.zip",
            new Uri(CicBase + "GeneratedLabelledFlows.md5"), null, null,
            "CIC-IDS2017 GeneratedLabelledFlows/TrafficLabelling: the same flows with Flow ID, IPs, ports, protocol and timestamp"),
    ];

    /// <summary>The archive named by <paramref name="dataset"/> and <paramref name="variant"/>.</summary>
    /// <exception cref="ArgumentException">No such dataset or variant; the message lists the known ones.</exception>
    public static DatasetSource Find(string dataset, string variant)
    {
        var match = All.FirstOrDefault(s => string.Equals(s.Dataset, dataset, StringComparison.OrdinalIgnoreCase)
            && string.Equals(s.Variant, variant, StringComparison.OrdinalIgnoreCase));
        if (match is not null)
        {
            return match;
        }

        string known = string.Join(", ", All.Select(s => $"{s.Dataset} --variant {s.Variant}"));
        throw new ArgumentException($"Unknown dataset '{dataset}' with variant '{variant}'. Known: {known}.", nameof(dataset));
    }
}
