using System.Globalization;
using System.Text.Json;
using Stakeout.Detection;

namespace Stakeout.Dashboard;

/// <summary>Builds <see cref="DashboardAlert"/>s from the pipeline's alerts and from stored EVE lines.</summary>
public static class AlertConversion
{
    /// <summary>A live alert as the dashboard holds it.</summary>
    public static DashboardAlert FromAlert(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var id = alert.Identity;
        return new DashboardAlert
        {
            Timestamp = alert.Timestamp,
            FlowId = alert.FlowId & FlowIds.Mask,
            SourceIp = id.SourceIp.ToString(),
            SourcePort = id.SourcePort,
            DestinationIp = id.DestinationIp.ToString(),
            DestinationPort = id.DestinationPort,
            Protocol = id.Protocol >= 0 ? EveWriter.ProtocolName(id.Protocol) : "",
            Signature = alert.Signature,
            Category = alert.Category,
            Severity = alert.Severity,
            Score = alert.Score,
            Count = alert.Count,
            FirstSeen = EveWriter.FormatEventTime(alert.FirstSeen),
            LastSeen = EveWriter.FormatEventTime(alert.LastSeen),
            Stream = alert.Stream,
            Line = alert.Line,
            SourceFlowId = alert.SourceFlowId,
            ModelSha256 = alert.ModelSha256,
            Explanation = [.. alert.Explanation.Select(c => new DashboardContribution(c.Feature, FormatValue(c.Value), c.Contribution))],
        };
    }

    /// <summary>
    /// One line of an EVE <c>alerts.json</c> (as <see cref="EveWriter"/> writes it). Lines of other event types return
    /// null; a line that is not an alert object is an <see cref="InvalidDataException"/> naming the file, line and field.
    /// </summary>
    public static DashboardAlert? FromEveLine(string line, string file, long lineNumber)
    {
        ArgumentNullException.ThrowIfNull(line);
        string where = string.Create(CultureInfo.InvariantCulture, $"{file} line {lineNumber}");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{where}: not a JSON object ({ex.Message}).", ex);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{where}: not a JSON object.");
            }

            if (!root.TryGetProperty("event_type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                throw new InvalidDataException($"{where}: field 'event_type' is missing.");
            }

            if (type.GetString() != "alert")
            {
                return null;
            }

            var body = Required(root, "alert", JsonValueKind.Object, where);
            var extra = root.TryGetProperty("stakeout", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
            string timestampText = Required(root, "timestamp", JsonValueKind.String, where).GetString()!;
            if (!TryParseTime(timestampText, out var timestamp))
            {
                throw new InvalidDataException($"{where}: field 'timestamp' is not a time: '{Shorten(timestampText)}'.");
            }

            var explanation = new List<DashboardContribution>();
            if (root.TryGetProperty("explanation", out var ex) && ex.ValueKind == JsonValueKind.Array)
            {
                foreach (var c in ex.EnumerateArray())
                {
                    if (c.ValueKind != JsonValueKind.Object)
                    {
                        throw new InvalidDataException($"{where}: field 'explanation' holds a non-object.");
                    }

                    explanation.Add(new DashboardContribution(
                        Text(c, "feature"),
                        c.TryGetProperty("value", out var v) ? (v.ValueKind == JsonValueKind.Number ? v.GetRawText() : v.ToString()) : "",
                        c.TryGetProperty("contribution", out var k) && k.ValueKind == JsonValueKind.Number ? k.GetDouble() : double.NaN));
                }
            }

            return new DashboardAlert
            {
                Timestamp = timestamp,
                FlowId = root.TryGetProperty("flow_id", out var f) && f.ValueKind == JsonValueKind.Number ? f.GetInt64() : 0,
                SourceIp = Text(root, "src_ip"),
                SourcePort = Int(root, "src_port"),
                DestinationIp = Text(root, "dest_ip"),
                DestinationPort = Int(root, "dest_port"),
                Protocol = Text(root, "proto"),
                Signature = Required(body, "signature", JsonValueKind.String, where + " alert").GetString()!,
                Category = Text(body, "category"),
                Severity = Int(body, "severity") is var sev and >= 1 ? sev : 3,
                Score = body.TryGetProperty("score", out var sc) && sc.ValueKind == JsonValueKind.Number ? sc.GetDouble() : double.NaN,
                Count = root.TryGetProperty("count", out var n) && n.ValueKind == JsonValueKind.Number ? Math.Max(1, n.GetInt64()) : 1,
                FirstSeen = Text(root, "first_seen"),
                LastSeen = Text(root, "last_seen"),
                Stream = extra.ValueKind == JsonValueKind.Object ? Text(extra, "stream") : "",
                Line = extra.ValueKind == JsonValueKind.Object && extra.TryGetProperty("line", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetInt64() : 0,
                SourceFlowId = extra.ValueKind == JsonValueKind.Object && extra.TryGetProperty("source_flow_id", out var sf) ? sf.ToString() : null,
                ModelSha256 = extra.ValueKind == JsonValueKind.Object && extra.TryGetProperty("model_sha256", out var m) ? m.ToString() : null,
                Explanation = explanation,
            };
        }
    }

    /// <summary>Parses an EVE time (<c>2017-07-07T15:30:00.000000+0000</c>) or an event time without zone (read as UTC).</summary>
    public static bool TryParseTime(string text, out DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.EndsWith("+0000", StringComparison.Ordinal) ? text[..^5] + "Z" : text;
        return DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);
    }

    private static string FormatValue(float v) =>
        float.IsNaN(v) ? "NaN" : float.IsPositiveInfinity(v) ? "Infinity" : float.IsNegativeInfinity(v) ? "-Infinity" : v.ToString("R", CultureInfo.InvariantCulture);

    private static JsonElement Required(JsonElement e, string name, JsonValueKind kind, string where) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == kind ? v : throw new InvalidDataException($"{where}: field '{name}' is missing or not a {kind.ToString().ToLowerInvariant()}.");

    private static string Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.ToString() : "";

    private static int Int(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : -1;

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
