using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Stakeout.Ledger.Records;

/// <summary>
/// Turns a <see cref="ThreatObservation"/> into a threat record: a STIX 2.1 bundle holding the sensor's
/// <c>identity</c>, an <c>attack-pattern</c> for the detected class, the <c>ipv4-addr</c>/<c>ipv6-addr</c> and
/// <c>network-traffic</c> observables when the flow has real addresses, the <c>observed-data</c> that groups them, and the
/// <c>sighting</c> that says "this sensor saw this attack pattern, N times, between these times", carrying Stakeout's
/// <c>x_stakeout_*</c> fields (score, class, model artifact SHA-256, explanation, flow id, sensor). Every id is a
/// version-5 UUID derived from the alert (observables from their STIX id-contributing properties, as STIX 2.1 section
/// 2.9 prescribes), and created/modified are the alert's own time, so the same alert always gives the same bytes.
/// </summary>
public sealed class StixRecordBuilder
{
    // Identity and attack-pattern objects are shared by many records: one fixed version so every record states them alike.
    private const string SharedObjectsCreated = "2026-01-01T00:00:00.000Z";
    private readonly string _sensor;
    private readonly string _identityId;

    /// <summary>A builder for the records of sensor <paramref name="sensorId"/>.</summary>
    public StixRecordBuilder(string sensorId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sensorId);
        _sensor = sensorId;
        _identityId = "identity--" + Uuid5.Create(Uuid5.Stakeout, "sensor\n" + sensorId);
    }

    /// <summary>The record's canonical (RFC 8785) bytes: what the log hashes and stores.</summary>
    public byte[] Serialize(ThreatObservation observation) => CanonicalJson.Serialize(Build(observation));

    /// <summary>The record as a STIX 2.1 bundle.</summary>
    public JsonObject Build(ThreatObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        string key = string.Join('\n', _sensor, observation.Timestamp.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            observation.FlowId.ToString(CultureInfo.InvariantCulture), observation.Signature, observation.FirstSeen, observation.LastSeen,
            observation.Stream ?? "", observation.Line?.ToString(CultureInfo.InvariantCulture) ?? "");
        string time = StixTime(observation.Timestamp);
        var objects = new JsonArray
        {
            new JsonObject
            {
                ["type"] = "identity",
                ["spec_version"] = "2.1",
                ["id"] = _identityId,
                ["created"] = SharedObjectsCreated,
                ["modified"] = SharedObjectsCreated,
                ["name"] = _sensor,
                ["identity_class"] = "system",
                ["description"] = "Stakeout sensor",
            },
        };

        string patternId = "attack-pattern--" + Uuid5.Create(Uuid5.Stakeout, "attack-pattern\n" + observation.Signature);
        objects.Add(new JsonObject
        {
            ["type"] = "attack-pattern",
            ["spec_version"] = "2.1",
            ["id"] = patternId,
            ["created"] = SharedObjectsCreated,
            ["modified"] = SharedObjectsCreated,
            ["name"] = observation.Signature,
            ["x_stakeout_category"] = observation.Category,
        });

        var (firstObserved, lastObserved, zoneKnown) = ObservedWindow(observation);
        string? observedDataId = null;
        string? src = AddAddress(objects, observation.SourceIp);
        string? dst = AddAddress(objects, observation.DestinationIp);
        if (src is not null || dst is not null)
        {
            var traffic = new JsonObject { ["type"] = "network-traffic", ["spec_version"] = "2.1" };
            var contributing = new JsonObject();
            void Put(string name, JsonNode? value)
            {
                if (value is not null)
                {
                    traffic[name] = value;
                    contributing[name] = value.DeepClone();
                }
            }

            Put("src_ref", src);
            Put("dst_ref", dst);
            Put("src_port", observation.SourcePort is int sp ? JsonValue.Create(sp) : null);
            Put("dst_port", observation.DestinationPort is int dp ? JsonValue.Create(dp) : null);
            Put("protocols", Protocols(observation, src ?? dst!));
            string trafficId = "network-traffic--" + Uuid5.Create(Uuid5.StixObservables, System.Text.Encoding.UTF8.GetString(CanonicalJson.Serialize(contributing)));
            traffic["id"] = trafficId;
            objects.Add(traffic);

            var refs = new JsonArray(trafficId);
            foreach (string? r in new[] { src, dst }.Distinct())
            {
                if (r is not null)
                {
                    refs.Add(r);
                }
            }

            observedDataId = "observed-data--" + Uuid5.Create(Uuid5.Stakeout, "observed-data\n" + key);
            objects.Add(new JsonObject
            {
                ["type"] = "observed-data",
                ["spec_version"] = "2.1",
                ["id"] = observedDataId,
                ["created"] = time,
                ["modified"] = time,
                ["created_by_ref"] = _identityId,
                ["first_observed"] = firstObserved,
                ["last_observed"] = lastObserved,
                ["number_observed"] = observation.Count,
                ["object_refs"] = refs,
            });
        }

        var sighting = new JsonObject
        {
            ["type"] = "sighting",
            ["spec_version"] = "2.1",
            ["id"] = "sighting--" + Uuid5.Create(Uuid5.Stakeout, "sighting\n" + key),
            ["created"] = time,
            ["modified"] = time,
            ["created_by_ref"] = _identityId,
            ["first_seen"] = firstObserved,
            ["last_seen"] = lastObserved,
            ["count"] = observation.Count,
            ["sighting_of_ref"] = patternId,
            ["where_sighted_refs"] = new JsonArray(_identityId),
            ["confidence"] = (int)Math.Round(observation.Score * 100, MidpointRounding.AwayFromZero),
            ["x_stakeout_sensor"] = _sensor,
            ["x_stakeout_class"] = observation.Signature,
            ["x_stakeout_category"] = observation.Category,
            ["x_stakeout_severity"] = observation.Severity,
            ["x_stakeout_score"] = observation.Score,
            ["x_stakeout_flow_id"] = observation.FlowId,
            ["x_stakeout_detected_at"] = time,
            ["x_stakeout_event_time_zone_known"] = zoneKnown,
            ["x_stakeout_explanation"] = Explanation(observation),
        };
        if (observedDataId is not null)
        {
            sighting["observed_data_refs"] = new JsonArray(observedDataId);
        }

        PutIfPresent(sighting, "x_stakeout_model_sha256", observation.ModelSha256);
        PutIfPresent(sighting, "x_stakeout_stream", observation.Stream);
        PutIfPresent(sighting, "x_stakeout_flow_start", observation.FlowStart);
        PutIfPresent(sighting, "x_stakeout_source_flow_id", observation.SourceFlowId);
        if (observation.Line is long line)
        {
            sighting["x_stakeout_line"] = line;
        }

        objects.Add(sighting);
        return new JsonObject
        {
            ["type"] = "bundle",
            ["id"] = "bundle--" + Uuid5.Create(Uuid5.Stakeout, "record\n" + key),
            ["objects"] = objects,
        };
    }

    /// <summary>A STIX timestamp: UTC, RFC 3339, millisecond precision, <c>Z</c>.</summary>
    public static string StixTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static (string First, string Last, bool ZoneKnown) ObservedWindow(ThreatObservation o)
    {
        // EVE event times from CSV data carry no zone (local time of the capture); STIX wants UTC, so they are read as
        // UTC and the sighting says the zone was not known. Unparseable ones fall back to the detection time.
        bool known = HasZone(o.FirstSeen) && HasZone(o.LastSeen);
        string first = ParseEventTime(o.FirstSeen, o.Timestamp);
        string last = ParseEventTime(o.LastSeen, o.Timestamp);
        if (string.CompareOrdinal(last, first) < 0)
        {
            last = first;
        }

        return (first, last, known);
    }

    private static bool HasZone(string text) =>
        text.EndsWith('Z') || (text.Length > 6 && (text[^5] is '+' or '-' || text[^6] is '+' or '-'));

    private static string ParseEventTime(string text, DateTimeOffset fallback)
    {
        string t = text.EndsWith("+0000", StringComparison.Ordinal) ? text[..^5] + "+00:00" : text;
        return DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            ? StixTime(parsed)
            : StixTime(fallback);
    }

    private static string? AddAddress(JsonArray objects, string? ip)
    {
        if (string.IsNullOrEmpty(ip) || !IPAddress.TryParse(ip, out var address))
        {
            return null;
        }

        string type = address.AddressFamily == AddressFamily.InterNetworkV6 ? "ipv6-addr" : "ipv4-addr";
        string value = address.ToString();
        var contributing = new JsonObject { ["value"] = value };
        string id = type + "--" + Uuid5.Create(Uuid5.StixObservables, System.Text.Encoding.UTF8.GetString(CanonicalJson.Serialize(contributing)));
        if (!objects.Any(o => (string?)o!["id"] == id))
        {
            objects.Add(new JsonObject { ["type"] = type, ["spec_version"] = "2.1", ["id"] = id, ["value"] = value });
        }

        return id;
    }

    private static JsonArray Protocols(ThreatObservation o, string addressRef)
    {
        var protocols = new JsonArray(addressRef.StartsWith("ipv6-addr", StringComparison.Ordinal) ? "ipv6" : "ipv4");
        string? transport = o.Protocol?.ToUpperInvariant() switch
        {
            null => null,
            "TCP" => "tcp",
            "UDP" => "udp",
            "ICMP" => "icmp",
            "IPV6-ICMP" => "ipv6-icmp",
            "SCTP" => "sctp",
            _ => o.Protocol!.ToLowerInvariant(),
        };
        if (transport is not null)
        {
            protocols.Add(transport);
        }

        return protocols;
    }

    private static JsonArray Explanation(ThreatObservation o)
    {
        var array = new JsonArray();
        foreach (var c in o.Explanation)
        {
            var item = new JsonObject { ["feature"] = c.Feature, ["contribution"] = c.Contribution };
            item["value"] = c.Value is double v ? JsonValue.Create(v) : c.ValueText;
            array.Add(item);
        }

        return array;
    }

    private static void PutIfPresent(JsonObject obj, string name, string? value)
    {
        if (value is not null)
        {
            obj[name] = value;
        }
    }
}
