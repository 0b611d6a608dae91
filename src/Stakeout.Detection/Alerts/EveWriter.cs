using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Stakeout.Core;

namespace Stakeout.Detection;

/// <summary>
/// Writes alerts as EVE JSON, one object per line. One method writes the common header of every event in a fixed
/// field order (<c>timestamp</c>, <c>flow_id</c>, <c>event_type</c>, the 5-tuple), as Suricata does, so tools that read
/// Suricata's eve.json read ours; the alert's own fields follow. The shape is pinned by <c>alert.schema.json</c>.
/// </summary>
public static class EveWriter
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    /// <summary>Serialises one alert as a single line of UTF-8 JSON followed by '\n'.</summary>
    public static void WriteLine(IBufferWriter<byte> output, Alert alert)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(alert);
        using (var json = new Utf8JsonWriter(output, WriterOptions))
        {
            json.WriteStartObject();
            WriteHeader(json, alert.Timestamp, alert.FlowId, "alert", alert.Identity);
            WriteAlertBody(json, alert);
            json.WriteEndObject();
        }

        output.Write("\n"u8);
    }

    /// <summary>The alert as one JSON line (without the trailing newline), for tests and small outputs.</summary>
    public static string ToJson(Alert alert)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        WriteLine(buffer, alert);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan[..^1]);
    }

    /// <summary>Suricata's timestamp form: <c>2017-07-07T15:30:00.000000+0000</c>.</summary>
    public static string FormatTimestamp(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+0000'", CultureInfo.InvariantCulture);

    /// <summary>An event time: UTC times carry <c>+0000</c>; times read from the data (local time of the capture, zone unknown) carry none.</summary>
    public static string FormatEventTime(DateTime time) => time.Kind == DateTimeKind.Utc
        ? time.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+0000'", CultureInfo.InvariantCulture)
        : time.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture);

    /// <summary>IP protocol name as Suricata writes it (TCP, UDP, ICMP, IPv6-ICMP), or the number.</summary>
    public static string ProtocolName(short protocol) => protocol switch
    {
        6 => "TCP",
        17 => "UDP",
        1 => "ICMP",
        58 => "IPv6-ICMP",
        132 => "SCTP",
        _ => protocol.ToString(CultureInfo.InvariantCulture),
    };

    private static void WriteHeader(Utf8JsonWriter json, DateTimeOffset timestamp, long flowId, string eventType, in FlowIdentity identity)
    {
        json.WriteString("timestamp"u8, FormatTimestamp(timestamp));
        json.WriteNumber("flow_id"u8, flowId & FlowIds.Mask);
        json.WriteString("event_type"u8, eventType);
        if (identity.SourceIp.HasValue)
        {
            json.WriteString("src_ip"u8, identity.SourceIp.ToString());
        }

        if (identity.SourcePort >= 0)
        {
            json.WriteNumber("src_port"u8, identity.SourcePort);
        }

        if (identity.DestinationIp.HasValue)
        {
            json.WriteString("dest_ip"u8, identity.DestinationIp.ToString());
        }

        if (identity.DestinationPort >= 0)
        {
            json.WriteNumber("dest_port"u8, identity.DestinationPort);
        }

        if (identity.Protocol >= 0)
        {
            json.WriteString("proto"u8, ProtocolName(identity.Protocol));
        }
    }

    private static void WriteAlertBody(Utf8JsonWriter json, Alert alert)
    {
        json.WriteStartObject("alert"u8);
        json.WriteString("signature"u8, alert.Signature);
        json.WriteString("category"u8, alert.Category);
        json.WriteNumber("severity"u8, alert.Severity);
        json.WriteNumber("score"u8, Math.Round(alert.Score, 6));
        json.WriteString("reason"u8, AlertReasons.Name(alert.Reason));
        if (alert.Class is not null)
        {
            json.WriteString("class"u8, alert.Class);
        }

        if (alert.ClassProbability is { } cp && double.IsFinite(cp))
        {
            json.WriteNumber("class_probability"u8, Math.Round(cp, 6));
        }

        if (alert.AnomalyScore is { } a && double.IsFinite(a))
        {
            json.WriteNumber("anomaly_score"u8, Math.Round(a, 4));
        }

        json.WriteEndObject();

        WriteContributions(json, "explanation"u8, alert.Explanation);
        if (alert.AnomalyScore is { } score && double.IsFinite(score))
        {
            json.WriteStartObject("anomaly"u8);
            json.WriteNumber("score"u8, Math.Round(score, 4));
            if (alert.AnomalyThreshold is { } t && double.IsFinite(t))
            {
                json.WriteNumber("threshold"u8, Math.Round(t, 4));
            }

            WriteContributions(json, "unusual"u8, alert.Unusual);
            json.WriteEndObject();
        }

        json.WriteNumber("count"u8, alert.Count);
        json.WriteString("first_seen"u8, FormatEventTime(alert.FirstSeen));
        json.WriteString("last_seen"u8, FormatEventTime(alert.LastSeen));

        json.WriteStartObject("stakeout"u8);
        json.WriteString("stream"u8, alert.Stream);
        json.WriteNumber("line"u8, alert.Line);
        if (alert.Identity.Timestamp != DateTime.MinValue)
        {
            json.WriteString("flow_start"u8, FormatEventTime(alert.Identity.Timestamp));
        }

        if (alert.SourceFlowId is not null)
        {
            json.WriteString("source_flow_id"u8, alert.SourceFlowId);
        }

        if (alert.ModelSha256 is not null)
        {
            json.WriteString("model_sha256"u8, alert.ModelSha256);
        }

        json.WriteEndObject();
    }

    private static void WriteContributions(Utf8JsonWriter json, ReadOnlySpan<byte> name, IReadOnlyList<FeatureContribution> contributions)
    {
        json.WriteStartArray(name);
        foreach (var c in contributions)
        {
            json.WriteStartObject();
            json.WriteString("feature"u8, c.Feature);
            if (float.IsFinite(c.Value))
            {
                json.WriteNumber("value"u8, c.Value);
            }
            else
            {
                json.WriteString("value"u8, float.IsNaN(c.Value) ? "NaN" : c.Value > 0 ? "Infinity" : "-Infinity");
            }

            json.WriteNumber("contribution"u8, Math.Round(c.Contribution, 6));
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }
}
