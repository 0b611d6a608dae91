using System.Globalization;
using System.Text.Json;

namespace Stakeout.Ledger.Records;

/// <summary>An EVE line that cannot become a threat observation; the message names the source, line and field.</summary>
public sealed class EveFormatException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Reads Stakeout's EVE alert lines (the <c>alerts.json</c> of <c>detect</c> and <c>monitor</c>, shaped by the detection
/// runtime's <c>alert.schema.json</c>) into <see cref="ThreatObservation"/>s. Events of other types are not alerts and are
/// counted as skipped by the caller (<see cref="TryRead"/> returns false for them).
/// </summary>
public static class EveObservationReader
{
    /// <summary>
    /// Parses one EVE line. Returns false (and no observation) for an event that is not an alert; throws
    /// <see cref="EveFormatException"/> naming <paramref name="source"/>, <paramref name="line"/> and the field for a malformed one.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> utf8Line, string source, long line, out ThreatObservation? observation)
    {
        observation = null;
        string at = $"{source}:{line}";
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(utf8Line);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new EveFormatException($"{at}: not a JSON object ({e.Message})", e);
        }

        try
        {
            return Read(document, at, out observation);
        }
        catch (Exception e) when (e is InvalidOperationException or OverflowException or FormatException)
        {
            // A string that is not valid UTF-8 (or a lone surrogate escape), or a number out of range: still a format error.
            observation = null;
            throw new EveFormatException($"{at}: {e.Message}", e);
        }
    }

    private static bool Read(JsonDocument document, string at, out ThreatObservation? observation)
    {
        observation = null;
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new EveFormatException($"{at}: an EVE event is a JSON object, this is a {root.ValueKind}");
            }

            string eventType = RequiredString(root, "event_type", at);
            if (!string.Equals(eventType, "alert", StringComparison.Ordinal))
            {
                return false;
            }

            var alert = RequiredObject(root, "alert", at);
            var stakeout = root.TryGetProperty("stakeout", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
            observation = new ThreatObservation
            {
                Timestamp = ParseTimestamp(RequiredString(root, "timestamp", at), "timestamp", at),
                FlowId = RequiredInt64(root, "flow_id", at),
                SourceIp = OptionalString(root, "src_ip", at),
                SourcePort = OptionalPort(root, "src_port", at),
                DestinationIp = OptionalString(root, "dest_ip", at),
                DestinationPort = OptionalPort(root, "dest_port", at),
                Protocol = OptionalString(root, "proto", at),
                Signature = RequiredString(alert, "signature", at, "alert."),
                Category = RequiredString(alert, "category", at, "alert."),
                Severity = checked((int)RequiredInt64(alert, "severity", at, "alert.")),
                Score = RequiredDouble(alert, "score", at, "alert."),
                Explanation = ReadExplanation(root, at),
                Count = root.TryGetProperty("count", out _) ? RequiredInt64(root, "count", at) : 1,
                FirstSeen = RequiredString(root, "first_seen", at),
                LastSeen = RequiredString(root, "last_seen", at),
                Stream = stakeout.ValueKind == JsonValueKind.Object ? OptionalString(stakeout, "stream", at, "stakeout.") : null,
                Line = stakeout.ValueKind == JsonValueKind.Object && stakeout.TryGetProperty("line", out _) ? RequiredInt64(stakeout, "line", at, "stakeout.") : null,
                FlowStart = stakeout.ValueKind == JsonValueKind.Object ? OptionalString(stakeout, "flow_start", at, "stakeout.") : null,
                SourceFlowId = stakeout.ValueKind == JsonValueKind.Object ? OptionalString(stakeout, "source_flow_id", at, "stakeout.") : null,
                ModelSha256 = stakeout.ValueKind == JsonValueKind.Object ? OptionalString(stakeout, "model_sha256", at, "stakeout.") : null,
            };

            if (observation.Score is < 0 or > 1 || double.IsNaN(observation.Score))
            {
                throw new EveFormatException($"{at}: field 'alert.score' is {observation.Score.ToString(CultureInfo.InvariantCulture)}, not a score in [0, 1]");
            }

            if (observation.Count < 1)
            {
                throw new EveFormatException($"{at}: field 'count' is {observation.Count}; an alert stands for at least one flow");
            }

            return true;
        }
    }

    /// <summary>The EVE timestamp forms: Suricata's <c>2017-07-07T15:30:00.000000+0000</c>, or any ISO 8601 time with a zone.</summary>
    public static bool TryParseTimestamp(string text, out DateTimeOffset time) =>
        DateTimeOffset.TryParse(text.EndsWith("+0000", StringComparison.Ordinal) ? text[..^5] + "+00:00" : text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time);

    private static DateTimeOffset ParseTimestamp(string text, string field, string at)
    {
        return TryParseTimestamp(text, out var time)
            ? time.ToUniversalTime()
            : throw new EveFormatException($"{at}: field '{field}' ('{text}') is not a timestamp");
    }

    private static List<ObservedContribution> ReadExplanation(JsonElement root, string at)
    {
        var list = new List<ObservedContribution>();
        if (!root.TryGetProperty("explanation", out var array))
        {
            return list;
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new EveFormatException($"{at}: field 'explanation' is a {array.ValueKind}, not an array");
        }

        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            string prefix = $"explanation[{i}].";
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw new EveFormatException($"{at}: field 'explanation[{i}]' is not an object");
            }

            double? value = null;
            string? valueText = null;
            if (item.TryGetProperty("value", out var v))
            {
                if (v.ValueKind == JsonValueKind.Number)
                {
                    value = v.GetDouble();
                    if (!double.IsFinite(value.Value))
                    {
                        // A number like 1e309 overflows to infinity; EVE writes non-finite values as strings.
                        throw new EveFormatException($"{at}: an explanation value ('{v.GetRawText()}') is beyond the range of a double; write non-finite values as \"Infinity\"");
                    }
                }
                else if (v.ValueKind == JsonValueKind.String && v.GetString() is "NaN" or "Infinity" or "-Infinity")
                {
                    valueText = v.GetString();
                }
                else
                {
                    throw new EveFormatException($"{at}: field '{prefix}value' is neither a number nor NaN/Infinity/-Infinity");
                }
            }

            list.Add(new ObservedContribution(RequiredString(item, "feature", at, prefix), value, valueText, RequiredDouble(item, "contribution", at, prefix)));
            i++;
        }

        return list;
    }

    private static JsonElement RequiredObject(JsonElement obj, string name, string at) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object
            ? value
            : throw new EveFormatException($"{at}: field '{name}' is missing or not an object");

    private static string RequiredString(JsonElement obj, string name, string at, string prefix = "") =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new EveFormatException($"{at}: field '{prefix}{name}' is missing or not a string");

    private static string? OptionalString(JsonElement obj, string name, string at, string prefix = "")
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw new EveFormatException($"{at}: field '{prefix}{name}' is not a string");
    }

    private static long RequiredInt64(JsonElement obj, string name, string at, string prefix = "") =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long n)
            ? n
            : throw new EveFormatException($"{at}: field '{prefix}{name}' is missing or not an integer");

    private static double RequiredDouble(JsonElement obj, string name, string at, string prefix = "") =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double d) && double.IsFinite(d)
            ? d
            : throw new EveFormatException($"{at}: field '{prefix}{name}' is missing or not a finite number");

    private static int? OptionalPort(JsonElement obj, string name, string at)
    {
        if (!obj.TryGetProperty(name, out _))
        {
            return null;
        }

        long port = RequiredInt64(obj, name, at);
        return port is >= 0 and <= 65535 ? (int)port : throw new EveFormatException($"{at}: field '{name}' is {port}, not a port (0-65535)");
    }
}
