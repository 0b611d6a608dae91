using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Stakeout.Ledger.Records;

/// <summary>JSON that RFC 8785 cannot canonicalise: a non-finite number, a lone surrogate, a duplicate key, malformed text.</summary>
public sealed class CanonicalJsonException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The JSON Canonicalization Scheme (RFC 8785): no whitespace; object members sorted by their names' UTF-16 code units;
/// strings escaped only where JSON requires it (<c>"</c>, <c>\</c>, control characters, with the short forms
/// <c>\b \t \n \f \r</c> and lower-case <c>\u00xx</c> otherwise), everything else as UTF-8; numbers as IEEE-754
/// doubles in ECMAScript's <c>Number.prototype.toString</c> form. The same data therefore always gives the same bytes,
/// and so the same hash.
/// </summary>
public static class CanonicalJson
{
    /// <summary>The canonical form of the JSON text <paramref name="utf8Json"/>.</summary>
    /// <exception cref="CanonicalJsonException">The text is not JSON, or holds something JCS cannot represent.</exception>
    public static byte[] Canonicalize(ReadOnlySpan<byte> utf8Json)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new CanonicalJsonException($"not JSON: {e.Message}", e);
        }

        using (document)
        {
            var output = new ArrayBufferWriter<byte>(utf8Json.Length + 16);
            WriteElement(output, document.RootElement, "$");
            return output.WrittenSpan.ToArray();
        }
    }

    /// <summary>The canonical form of <paramref name="node"/> (null for JSON null).</summary>
    public static byte[] Serialize(JsonNode? node)
    {
        var output = new ArrayBufferWriter<byte>(1024);
        Write(output, node);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Writes the canonical form of <paramref name="node"/> into <paramref name="output"/>.</summary>
    public static void Write(IBufferWriter<byte> output, JsonNode? node)
    {
        ArgumentNullException.ThrowIfNull(output);
        WriteNode(output, node, "$");
    }

    /// <summary>A number as ECMAScript writes it (RFC 8785 section 3.2.2.3).</summary>
    /// <exception cref="CanonicalJsonException">NaN or an infinity, which JSON cannot hold.</exception>
    public static string FormatNumber(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new CanonicalJsonException($"{value.ToString(CultureInfo.InvariantCulture)} is not a JSON number (RFC 8785 allows only finite numbers)");
        }

        if (value == 0)
        {
            return "0"; // also -0
        }

        // .NET's "R" gives the shortest digits that round-trip, as ECMAScript requires; only the layout differs.
        string r = value.ToString("R", CultureInfo.InvariantCulture);
        bool negative = r[0] == '-';
        if (negative)
        {
            r = r[1..];
        }

        int exponent = 0;
        int e = r.IndexOf('E', StringComparison.Ordinal);
        if (e >= 0)
        {
            exponent = int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = r[..e];
        }

        int dot = r.IndexOf('.', StringComparison.Ordinal);
        string digits = dot < 0 ? r : string.Concat(r.AsSpan(0, dot), r.AsSpan(dot + 1));
        int n = (dot < 0 ? r.Length : dot) + exponent; // value = 0.d1 d2 ... dk x 10^n
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0')
        {
            lead++;
        }

        digits = digits[lead..].TrimEnd('0');
        n -= lead;
        int k = digits.Length;
        var text = new StringBuilder(k + 8);
        if (negative)
        {
            text.Append('-');
        }

        if (k <= n && n <= 21)
        {
            text.Append(digits).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            text.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        }
        else if (-6 < n && n <= 0)
        {
            text.Append("0.").Append('0', -n).Append(digits);
        }
        else
        {
            text.Append(digits[0]);
            if (k > 1)
            {
                text.Append('.').Append(digits, 1, k - 1);
            }

            int shown = n - 1;
            text.Append('e').Append(shown >= 0 ? '+' : '-').Append(Math.Abs(shown).ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    private static void WriteElement(IBufferWriter<byte> output, JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var members = new List<(string Name, JsonElement Value)>();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    if (!seen.Add(property.Name))
                    {
                        throw new CanonicalJsonException($"{path}: duplicate member '{property.Name}'");
                    }

                    members.Add((property.Name, property.Value));
                }

                members.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
                WriteRaw(output, "{"u8);
                for (int i = 0; i < members.Count; i++)
                {
                    if (i > 0)
                    {
                        WriteRaw(output, ","u8);
                    }

                    WriteString(output, members[i].Name, path);
                    WriteRaw(output, ":"u8);
                    WriteElement(output, members[i].Value, path + "." + members[i].Name);
                }

                WriteRaw(output, "}"u8);
                break;
            case JsonValueKind.Array:
                WriteRaw(output, "["u8);
                int index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (index > 0)
                    {
                        WriteRaw(output, ","u8);
                    }

                    WriteElement(output, item, $"{path}[{index}]");
                    index++;
                }

                WriteRaw(output, "]"u8);
                break;
            case JsonValueKind.String:
                string text;
                try
                {
                    text = element.GetString()!;
                }
                catch (InvalidOperationException e)
                {
                    throw new CanonicalJsonException($"{path}: the string is not valid Unicode", e);
                }

                WriteString(output, text, path);
                break;
            case JsonValueKind.Number:
                string raw = element.GetRawText();
                if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
                {
                    throw new CanonicalJsonException($"{path}: the number {raw} is outside the range of an IEEE-754 double");
                }

                WriteAscii(output, FormatNumber(value));
                break;
            case JsonValueKind.True:
                WriteRaw(output, "true"u8);
                break;
            case JsonValueKind.False:
                WriteRaw(output, "false"u8);
                break;
            case JsonValueKind.Null:
                WriteRaw(output, "null"u8);
                break;
            default:
                throw new CanonicalJsonException($"{path}: unexpected JSON value kind {element.ValueKind}");
        }
    }

    private static void WriteNode(IBufferWriter<byte> output, JsonNode? node, string path)
    {
        switch (node)
        {
            case null:
                WriteRaw(output, "null"u8);
                break;
            case JsonObject obj:
                var members = new List<KeyValuePair<string, JsonNode?>>(obj.Count);
                members.AddRange(obj);
                members.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
                WriteRaw(output, "{"u8);
                for (int i = 0; i < members.Count; i++)
                {
                    if (i > 0)
                    {
                        WriteRaw(output, ","u8);
                    }

                    WriteString(output, members[i].Key, path);
                    WriteRaw(output, ":"u8);
                    WriteNode(output, members[i].Value, path + "." + members[i].Key);
                }

                WriteRaw(output, "}"u8);
                break;
            case JsonArray array:
                WriteRaw(output, "["u8);
                for (int i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                    {
                        WriteRaw(output, ","u8);
                    }

                    WriteNode(output, array[i], $"{path}[{i}]");
                }

                WriteRaw(output, "]"u8);
                break;
            case JsonValue value:
                WriteValue(output, value, path);
                break;
            default:
                throw new CanonicalJsonException($"{path}: unexpected node {node.GetType().Name}");
        }
    }

    private static void WriteValue(IBufferWriter<byte> output, JsonValue value, string path)
    {
        if (value.TryGetValue(out JsonElement element))
        {
            WriteElement(output, element, path);
            return;
        }

        if (value.TryGetValue(out string? s))
        {
            WriteString(output, s!, path);
        }
        else if (value.TryGetValue(out bool b))
        {
            WriteRaw(output, b ? "true"u8 : "false"u8);
        }
        else if (value.TryGetValue(out long l))
        {
            WriteInteger(output, l, path);
        }
        else if (value.TryGetValue(out int i))
        {
            WriteInteger(output, i, path);
        }
        else if (value.TryGetValue(out double d))
        {
            WriteNumber(output, d, path);
        }
        else if (value.TryGetValue(out float f))
        {
            // A float's own shortest text (1.1f is "1.1", not 1.100000023841858): parse it back as the double it denotes.
            WriteNumber(output, double.Parse(f.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture), path);
        }
        else
        {
            throw new CanonicalJsonException($"{path}: a {value.GetValueKind()} value of a type JCS does not know");
        }
    }

    /// <summary>
    /// True when <paramref name="value"/> is within ±2^53: JCS numbers are doubles, so an integer beyond would silently
    /// change. Larger ones must be written as strings.
    /// </summary>
    internal static bool IsExactInteger(long value) => value is >= -(1L << 53) and <= 1L << 53;

    internal static void WriteInteger(IBufferWriter<byte> output, long value, string path)
    {
        if (!IsExactInteger(value))
        {
            throw new CanonicalJsonException($"{path}: the integer {value} is beyond 2^53 and cannot be represented exactly (write it as a string)");
        }

        WriteAscii(output, FormatNumber(value));
    }

    internal static void WriteNumber(IBufferWriter<byte> output, double value, string path)
    {
        if (!double.IsFinite(value))
        {
            throw new CanonicalJsonException($"{path}: {value.ToString(CultureInfo.InvariantCulture)} is not a JSON number");
        }

        WriteAscii(output, FormatNumber(value));
    }

    internal static void WriteString(IBufferWriter<byte> output, string text, string path)
    {
        var span = output.GetSpan((text.Length * 6) + 2);
        int at = 0;
        span[at++] = (byte)'"';
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c < 0x80)
            {
                switch (c)
                {
                    case '"': span[at++] = (byte)'\\'; span[at++] = (byte)'"'; break;
                    case '\\': span[at++] = (byte)'\\'; span[at++] = (byte)'\\'; break;
                    case '\b': span[at++] = (byte)'\\'; span[at++] = (byte)'b'; break;
                    case '\t': span[at++] = (byte)'\\'; span[at++] = (byte)'t'; break;
                    case '\n': span[at++] = (byte)'\\'; span[at++] = (byte)'n'; break;
                    case '\f': span[at++] = (byte)'\\'; span[at++] = (byte)'f'; break;
                    case '\r': span[at++] = (byte)'\\'; span[at++] = (byte)'r'; break;
                    default:
                        if (c < 0x20)
                        {
                            const string hex = "0123456789abcdef";
                            span[at++] = (byte)'\\';
                            span[at++] = (byte)'u';
                            span[at++] = (byte)'0';
                            span[at++] = (byte)'0';
                            span[at++] = (byte)hex[c >> 4];
                            span[at++] = (byte)hex[c & 0xF];
                        }
                        else
                        {
                            span[at++] = (byte)c;
                        }

                        break;
                }
            }
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                var rune = new Rune(c, text[i + 1]);
                at += rune.EncodeToUtf8(span[at..]);
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                throw new CanonicalJsonException($"{path}: the string has a lone surrogate U+{(int)c:X4} at char {i}, which is not Unicode");
            }
            else
            {
                at += new Rune(c).EncodeToUtf8(span[at..]);
            }
        }

        span[at++] = (byte)'"';
        output.Advance(at);
    }

    private static void WriteRaw(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes) => output.Write(bytes);

    private static void WriteAscii(IBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            span[i] = (byte)text[i];
        }

        output.Advance(text.Length);
    }
}
