using System.Globalization;
using Spectre.Console;

namespace Stakeout.Cli;

/// <summary>Renders an <see cref="InspectDocument"/> as tables for a person.</summary>
internal static class InspectView
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Render(IAnsiConsole console, InspectDocument d)
    {
        var files = new Table().Title("Files").AddColumns("file", "layout", "rows read", "used", "rejected", "dropped", "features", "label level", "note");
        foreach (var f in d.Files)
        {
            string note = f.Error ?? (f.MissingFeatures.Count > 0 ? $"lacks {string.Join(", ", f.MissingFeatures)}" : string.Empty);
            files.AddRow(
                Markup.Escape(Path.GetFileName(f.Path.Split('!')[^1])), Snake(f.Layout), N(f.RowsRead), N(f.RowsUsed), N(f.RowsRejected), N(f.RowsDropped),
                $"{f.FeaturesPresent}/78", f.LabelLevel?.ToString().ToLowerInvariant() ?? "-", Markup.Escape(note));
        }

        console.Write(files);

        string balance = d.Balanced ? "[green]balanced[/]" : "[red]NOT balanced[/]";
        console.MarkupLine(
            $"Rows read [bold]{N(d.RowsRead)}[/] = used [bold]{N(d.RowsUsed)}[/] + rejected [bold]{N(d.RowsRejected)}[/] + dropped [bold]{N(d.RowsDropped)}[/] ({balance}); " +
            $"exact duplicates found: {N(d.Duplicates)}; {d.Seconds.ToString("0.00", Inv)} s");
        foreach (var (reason, count) in d.RejectedByReason)
        {
            console.MarkupLine($"  rejected, {Markup.Escape(reason)}: {N(count)}");
        }

        foreach (var (reason, count) in d.DroppedByReason)
        {
            console.MarkupLine($"  dropped, {Markup.Escape(reason)}: {N(count)}");
        }

        var classes = new Table().Title("Labels").AddColumns("class", "rows", "family", "rows", "binary", "rows");
        var c = d.Classes.ToList();
        var fam = d.Families.ToList();
        var bin = d.Binary.ToList();
        int height = Math.Max(c.Count, Math.Max(fam.Count, bin.Count));
        for (int i = 0; i < height; i++)
        {
            classes.AddRow(
                i < c.Count ? Markup.Escape(c[i].Key) : string.Empty, i < c.Count ? N(c[i].Value) : string.Empty,
                i < fam.Count ? Markup.Escape(fam[i].Key) : string.Empty, i < fam.Count ? N(fam[i].Value) : string.Empty,
                i < bin.Count ? Markup.Escape(bin[i].Key) : string.Empty, i < bin.Count ? N(bin[i].Value) : string.Empty);
        }

        if (height > 0)
        {
            console.Write(classes);
        }

        if (d.Quirks.Count > 0)
        {
            var quirks = new Table().Title("Quirks found").AddColumns("quirk", "count");
            foreach (var (name, count) in d.Quirks)
            {
                quirks.AddRow(Markup.Escape(name), N(count));
            }

            console.Write(quirks);
        }

        if (d.Rejects.Count > 0)
        {
            var rejects = new Table().Title($"Rejected rows (first {Math.Min(20, d.Rejects.Count)} of {N(d.RowsRejected)})").AddColumns("file", "line", "field", "reason");
            foreach (var r in d.Rejects.Take(20))
            {
                rejects.AddRow(Markup.Escape(Path.GetFileName(r.File)), N(r.Line), Markup.Escape(r.Field ?? "-"), Markup.Escape(r.Detail));
            }

            console.Write(rejects);
        }

        var features = new Table().Title("Features").AddColumns("#", "feature", "finite", "missing", "+inf", "min", "max", "mean", "note");
        for (int i = 0; i < d.Features.Count; i++)
        {
            var s = d.Features[i];
            features.AddRow(
                i.ToString(Inv), Markup.Escape(s.Name), N(s.Finite), N(s.Missing), N(s.PositiveInfinity),
                G(s.Min), G(s.Max), G(s.Mean), s.IsConstant ? "[yellow]constant[/]" : string.Empty);
        }

        console.Write(features);
    }

    private static string N(long v) => v.ToString("N0", Inv);

    private static string G(double? v) => v is null ? "-" : v.Value.ToString("G6", Inv);

    private static string Snake<T>(T value)
        where T : struct, Enum => System.Text.Json.JsonSerializer.Serialize(value, Json.Options).Trim('"');
}
