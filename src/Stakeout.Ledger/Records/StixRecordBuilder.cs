using System.Collections.Concurrent;
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
    private readonly ConcurrentDictionary<string, string> _patternIds = new(StringComparer.Ordinal);

    /// <summary>A builder for the records of sensor <paramref name="sensorId"/>.</summary>
    public StixRecordBuilder(string sensorId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sensorId);
        _sensor = sensorId;
        _identityId = "identity--" + Uuid5.Create(Uuid5.Stakeout, "sensor\n" + sensorId);
    }

    /// <summary>
    /// The record's bundle id (<c>bundle--</c> and a v5 UUID): derived from the sensor and the alert's own identity (emission
    /// time, flow id, class, first and last seen, stream and line), so the same alert always gets the same id, and the id of
    /// a sealed record can be found again from the alert without opening it.
    /// </summary>
    public string RecordId(ThreatObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        return BundleId(Key(observation));
    }

    // The ids derived from an alert's key: one definition each, for the fast writer, the JSON tree and RecordId.
    private static string BundleId(string key) => "bundle--" + Uuid5.Create(Uuid5.Stakeout, "record\n" + key);

    private static string SightingId(string key) => "sighting--" + Uuid5.Create(Uuid5.Stakeout, "sighting\n" + key);

    private static string ObservedDataId(string key) => "observed-data--" + Uuid5.Create(Uuid5.Stakeout, "observed-data\n" + key);

    // What makes an alert this alert: every id of the record is derived from it.
    private string Key(ThreatObservation o) =>
        string.Join('\n', _sensor, o.Timestamp.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            o.FlowId.ToString(CultureInfo.InvariantCulture), o.Signature, o.FirstSeen, o.LastSeen,
            o.Stream ?? "", o.Line?.ToString(CultureInfo.InvariantCulture) ?? "");

    /// <summary>
    /// The record's canonical (RFC 8785) bytes: what the log hashes and stores. Written member by member in canonical
    /// order, with no JSON tree: the same bytes as <c>CanonicalJson.Serialize(Build(observation))</c> (the tests hold it to
    /// that), at a fraction of the cost.
    /// </summary>
    public byte[] Serialize(ThreatObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var f = Facts(observation);
        var w = new CanonicalWriter();
        w.BeginObject();
        w.Name("id");
        w.String(f.BundleId, "$.id");
        w.Name("objects");
        w.BeginArray();
        WriteIdentity(w);
        WriteAttackPattern(w, f.PatternId, observation);
        string? src = null, dst = null;
        if (f.Source is { } s)
        {
            src = WriteAddress(w, s);
        }

        if (f.Destination is { } d)
        {
            dst = f.Source is { } same && same.Value == d.Value && same.Type == d.Type ? src : WriteAddress(w, d);
        }

        string? observedDataId = null;
        if (src is not null || dst is not null)
        {
            string trafficId = TrafficId(observation, src, dst, f.Protocols);
            w.BeginObject();
            WriteTrafficMembers(w, observation, src, dst, f.Protocols, trafficId);
            w.EndObject();

            observedDataId = f.ObservedDataId;
            w.BeginObject();
            w.Name("created");
            w.String(f.Time, "$.observed-data.created");
            w.Name("created_by_ref");
            w.String(_identityId, "$.observed-data.created_by_ref");
            w.Name("first_observed");
            w.String(f.First, "$.observed-data.first_observed");
            w.Name("id");
            w.String(observedDataId, "$.observed-data.id");
            w.Name("last_observed");
            w.String(f.Last, "$.observed-data.last_observed");
            w.Name("modified");
            w.String(f.Time, "$.observed-data.modified");
            w.Name("number_observed");
            w.Integer(observation.Count, "$.observed-data.number_observed");
            w.Name("object_refs");
            w.BeginArray();
            w.String(trafficId, "$.observed-data.object_refs");
            if (src is not null)
            {
                w.String(src, "$.observed-data.object_refs");
            }

            if (dst is not null && dst != src)
            {
                w.String(dst, "$.observed-data.object_refs");
            }

            w.EndArray();
            w.Name("spec_version");
            w.String("2.1", "$.observed-data.spec_version");
            w.Name("type");
            w.String("observed-data", "$.observed-data.type");
            w.EndObject();
        }

        WriteSighting(w, observation, f, observedDataId);
        w.EndArray();
        w.Name("type");
        w.String("bundle", "$.type");
        w.EndObject();
        return w.Written.ToArray();
    }

    private void WriteIdentity(CanonicalWriter w)
    {
        w.BeginObject();
        w.Name("created");
        w.String(SharedObjectsCreated, "$.identity.created");
        w.Name("description");
        w.String("Stakeout sensor", "$.identity.description");
        w.Name("id");
        w.String(_identityId, "$.identity.id");
        w.Name("identity_class");
        w.String("system", "$.identity.identity_class");
        w.Name("modified");
        w.String(SharedObjectsCreated, "$.identity.modified");
        w.Name("name");
        w.String(_sensor, "$.identity.name");
        w.Name("spec_version");
        w.String("2.1", "$.identity.spec_version");
        w.Name("type");
        w.String("identity", "$.identity.type");
        w.EndObject();
    }

    private static void WriteAttackPattern(CanonicalWriter w, string patternId, ThreatObservation o)
    {
        w.BeginObject();
        w.Name("created");
        w.String(SharedObjectsCreated, "$.attack-pattern.created");
        w.Name("id");
        w.String(patternId, "$.attack-pattern.id");
        w.Name("modified");
        w.String(SharedObjectsCreated, "$.attack-pattern.modified");
        w.Name("name");
        w.String(o.Signature, "$.attack-pattern.name");
        w.Name("spec_version");
        w.String("2.1", "$.attack-pattern.spec_version");
        w.Name("type");
        w.String("attack-pattern", "$.attack-pattern.type");
        w.Name("x_stakeout_category");
        w.String(o.Category, "$.attack-pattern.x_stakeout_category");
        w.EndObject();
    }

    private static string WriteAddress(CanonicalWriter w, ParsedAddress a)
    {
        var contributing = new CanonicalWriter(64);
        contributing.BeginObject();
        contributing.Name("value");
        contributing.String(a.Value, "$.value");
        contributing.EndObject();
        string id = a.Type + "--" + Uuid5.Create(Uuid5.StixObservables, contributing.Written);
        w.BeginObject();
        w.Name("id");
        w.String(id, $"$.{a.Type}.id");
        w.Name("spec_version");
        w.String("2.1", $"$.{a.Type}.spec_version");
        w.Name("type");
        w.String(a.Type, $"$.{a.Type}.type");
        w.Name("value");
        w.String(a.Value, $"$.{a.Type}.value");
        w.EndObject();
        return id;
    }

    private static string TrafficId(ThreatObservation o, string? src, string? dst, IReadOnlyList<string> protocols)
    {
        var contributing = new CanonicalWriter(256);
        contributing.BeginObject();
        WriteTrafficMembers(contributing, o, src, dst, protocols, id: null);
        contributing.EndObject();
        return "network-traffic--" + Uuid5.Create(Uuid5.StixObservables, contributing.Written);
    }

    // The network-traffic object's members in canonical order; without an id, its id-contributing properties only.
    private static void WriteTrafficMembers(CanonicalWriter w, ThreatObservation o, string? src, string? dst, IReadOnlyList<string> protocols, string? id)
    {
        if (o.DestinationPort is int dp)
        {
            w.Name("dst_port");
            w.Integer(dp, "$.network-traffic.dst_port");
        }

        if (dst is not null)
        {
            w.Name("dst_ref");
            w.String(dst, "$.network-traffic.dst_ref");
        }

        if (id is not null)
        {
            w.Name("id");
            w.String(id, "$.network-traffic.id");
        }

        w.Name("protocols");
        w.BeginArray();
        foreach (string p in protocols)
        {
            w.String(p, "$.network-traffic.protocols");
        }

        w.EndArray();
        if (id is not null)
        {
            w.Name("spec_version");
            w.String("2.1", "$.network-traffic.spec_version");
        }

        if (o.SourcePort is int sp)
        {
            w.Name("src_port");
            w.Integer(sp, "$.network-traffic.src_port");
        }

        if (src is not null)
        {
            w.Name("src_ref");
            w.String(src, "$.network-traffic.src_ref");
        }

        if (id is not null)
        {
            w.Name("type");
            w.String("network-traffic", "$.network-traffic.type");
        }
    }

    private void WriteSighting(CanonicalWriter w, ThreatObservation o, RecordFacts f, string? observedDataId)
    {
        w.BeginObject();
        w.Name("confidence");
        w.Integer(Confidence(o), "$.sighting.confidence");
        w.Name("count");
        w.Integer(o.Count, "$.sighting.count");
        w.Name("created");
        w.String(f.Time, "$.sighting.created");
        w.Name("created_by_ref");
        w.String(_identityId, "$.sighting.created_by_ref");
        w.Name("first_seen");
        w.String(f.First, "$.sighting.first_seen");
        w.Name("id");
        w.String(f.SightingId, "$.sighting.id");
        w.Name("last_seen");
        w.String(f.Last, "$.sighting.last_seen");
        w.Name("modified");
        w.String(f.Time, "$.sighting.modified");
        if (observedDataId is not null)
        {
            w.Name("observed_data_refs");
            w.BeginArray();
            w.String(observedDataId, "$.sighting.observed_data_refs");
            w.EndArray();
        }

        w.Name("sighting_of_ref");
        w.String(f.PatternId, "$.sighting.sighting_of_ref");
        w.Name("spec_version");
        w.String("2.1", "$.sighting.spec_version");
        w.Name("type");
        w.String("sighting", "$.sighting.type");
        w.Name("where_sighted_refs");
        w.BeginArray();
        w.String(_identityId, "$.sighting.where_sighted_refs");
        w.EndArray();
        w.Name("x_stakeout_category");
        w.String(o.Category, "$.sighting.x_stakeout_category");
        w.Name("x_stakeout_class");
        w.String(o.Signature, "$.sighting.x_stakeout_class");
        w.Name("x_stakeout_detected_at");
        w.String(f.Time, "$.sighting.x_stakeout_detected_at");
        w.Name("x_stakeout_event_time_zone_known");
        w.Bool(f.ZoneKnown);
        w.Name("x_stakeout_explanation");
        w.BeginArray();
        for (int i = 0; i < o.Explanation.Count; i++)
        {
            var c = o.Explanation[i];
            w.BeginObject();
            w.Name("contribution");
            w.Number(c.Contribution, "$.sighting.x_stakeout_explanation.contribution");
            w.Name("feature");
            w.String(c.Feature, "$.sighting.x_stakeout_explanation.feature");
            w.Name("value");
            if (c.Value is double v)
            {
                w.Number(v, "$.sighting.x_stakeout_explanation.value");
            }
            else if (c.ValueText is not null)
            {
                w.String(c.ValueText, "$.sighting.x_stakeout_explanation.value");
            }
            else
            {
                w.Null();
            }

            w.EndObject();
        }

        w.EndArray();
        w.Name("x_stakeout_flow_id");
        if (CanonicalJson.IsExactInteger(o.FlowId))
        {
            w.Integer(o.FlowId, "$.sighting.x_stakeout_flow_id");
        }
        else
        {
            // Suricata's 64-bit flow ids go beyond 2^53, which JSON (RFC 8785) cannot carry exactly: a decimal string then.
            w.String(o.FlowId.ToString(CultureInfo.InvariantCulture), "$.sighting.x_stakeout_flow_id");
        }

        if (o.FlowStart is not null)
        {
            w.Name("x_stakeout_flow_start");
            w.String(o.FlowStart, "$.sighting.x_stakeout_flow_start");
        }

        if (o.Line is long line)
        {
            w.Name("x_stakeout_line");
            w.Integer(line, "$.sighting.x_stakeout_line");
        }

        if (o.ModelSha256 is not null)
        {
            w.Name("x_stakeout_model_sha256");
            w.String(o.ModelSha256, "$.sighting.x_stakeout_model_sha256");
        }

        w.Name("x_stakeout_score");
        w.Number(o.Score, "$.sighting.x_stakeout_score");
        w.Name("x_stakeout_sensor");
        w.String(_sensor, "$.sighting.x_stakeout_sensor");
        w.Name("x_stakeout_severity");
        w.Integer(o.Severity, "$.sighting.x_stakeout_severity");
        if (o.SourceFlowId is not null)
        {
            w.Name("x_stakeout_source_flow_id");
            w.String(o.SourceFlowId, "$.sighting.x_stakeout_source_flow_id");
        }

        if (o.Stream is not null)
        {
            w.Name("x_stakeout_stream");
            w.String(o.Stream, "$.sighting.x_stakeout_stream");
        }

        w.EndObject();
    }

    private static int Confidence(ThreatObservation o) => (int)Math.Round(o.Score * 100, MidpointRounding.AwayFromZero);

    /// <summary>An address as the record states it: its STIX type and its normalised text.</summary>
    private readonly record struct ParsedAddress(string Type, string Value);

    /// <summary>What both forms of a record derive from the observation before writing anything.</summary>
    private sealed record RecordFacts(string Time, string PatternId, string First, string Last, bool ZoneKnown, ParsedAddress? Source, ParsedAddress? Destination,
        IReadOnlyList<string> Protocols, string ObservedDataId, string SightingId, string BundleId);

    private RecordFacts Facts(ThreatObservation o)
    {
        string key = Key(o);
        var (first, last, zoneKnown) = ObservedWindow(o);
        var source = ParseAddress(o.SourceIp);
        var destination = ParseAddress(o.DestinationIp);
        var anyAddress = source ?? destination;
        return new RecordFacts(
            StixTime(o.Timestamp),
            PatternId(o.Signature),
            first,
            last,
            zoneKnown,
            source,
            destination,
            anyAddress is { } a ? ProtocolNames(o, a.Type == "ipv6-addr") : [],
            ObservedDataId(key),
            SightingId(key),
            BundleId(key));
    }

    // A handful of classes, seen over and over: their attack-pattern ids are derived once.
    private string PatternId(string signature)
    {
        if (_patternIds.TryGetValue(signature, out string? id))
        {
            return id;
        }

        id = "attack-pattern--" + Uuid5.Create(Uuid5.Stakeout, "attack-pattern\n" + signature);
        if (_patternIds.Count < 1024)
        {
            _patternIds.TryAdd(signature, id);
        }

        return id;
    }

    private static ParsedAddress? ParseAddress(string? ip)
    {
        if (string.IsNullOrEmpty(ip) || !IPAddress.TryParse(ip, out var address))
        {
            return null;
        }

        return new ParsedAddress(address.AddressFamily == AddressFamily.InterNetworkV6 ? "ipv6-addr" : "ipv4-addr", address.ToString());
    }

    /// <summary>The record as a STIX 2.1 bundle.</summary>
    public JsonObject Build(ThreatObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        string key = Key(observation);
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

            observedDataId = ObservedDataId(key);
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
            ["id"] = SightingId(key),
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
            ["x_stakeout_flow_id"] = CanonicalJson.IsExactInteger(observation.FlowId) ? JsonValue.Create(observation.FlowId) : JsonValue.Create(observation.FlowId.ToString(CultureInfo.InvariantCulture)),
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
            ["id"] = BundleId(key),
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
        var protocols = new JsonArray();
        foreach (string name in ProtocolNames(o, addressRef.StartsWith("ipv6-addr", StringComparison.Ordinal)))
        {
            protocols.Add(name);
        }

        return protocols;
    }

    private static string[] ProtocolNames(ThreatObservation o, bool ipv6)
    {
        string network = ipv6 ? "ipv6" : "ipv4";
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
        return transport is null ? [network] : [network, transport];
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
