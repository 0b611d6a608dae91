using System.Buffers;
using System.Globalization;

namespace Stakeout.Ledger.Records;

/// <summary>
/// Writes RFC 8785 canonical JSON directly, member by member, for callers that know their members' order: no node tree
/// and no sort. Strings and numbers go through the same code as <see cref="CanonicalJson"/> (so escaping and the
/// ECMAScript number form are the same by construction), and member names must arrive in the RFC 8785 order
/// (UTF-16 code units, ordinal for the ASCII names used here): a name out of order throws, so a mistake in a hand-ordered
/// writer cannot silently produce bytes that hash differently from the canonical form.
/// </summary>
internal sealed class CanonicalWriter
{
    private const int MaxDepth = 16;
    private readonly ArrayBufferWriter<byte> _output;
    private readonly string?[] _lastName = new string?[MaxDepth];
    private readonly bool[] _hasItem = new bool[MaxDepth];
    private int _depth;
    private bool _afterName;

    public CanonicalWriter(int capacity = 4096)
    {
        _output = new ArrayBufferWriter<byte>(capacity);
    }

    public ReadOnlySpan<byte> Written => _output.WrittenSpan;

    public void Reset()
    {
        _output.ResetWrittenCount();
        _depth = 0;
    }

    public void BeginObject()
    {
        BeforeValue();
        Raw((byte)'{');
        Push();
    }

    public void EndObject()
    {
        Pop();
        Raw((byte)'}');
    }

    public void BeginArray()
    {
        BeforeValue();
        Raw((byte)'[');
        Push();
    }

    public void EndArray()
    {
        Pop();
        Raw((byte)']');
    }

    /// <summary>The next member's name: ASCII without characters JSON escapes, after the previous member's name.</summary>
    public void Name(string name)
    {
        string? last = _lastName[_depth];
        if (last is not null && string.CompareOrdinal(last, name) >= 0)
        {
            throw new InvalidOperationException($"member '{name}' written after '{last}': RFC 8785 orders members by name.");
        }

        _lastName[_depth] = name;
        if (_hasItem[_depth])
        {
            Raw((byte)',');
        }

        _hasItem[_depth] = true;
        var span = _output.GetSpan(name.Length + 3);
        span[0] = (byte)'"';
        for (int i = 0; i < name.Length; i++)
        {
            span[i + 1] = (byte)name[i];
        }

        span[name.Length + 1] = (byte)'"';
        span[name.Length + 2] = (byte)':';
        _output.Advance(name.Length + 3);
        _afterName = true;
    }

    public void String(string value, string path)
    {
        BeforeValue();
        CanonicalJson.WriteString(_output, value, path);
    }

    public void Integer(long value, string path)
    {
        BeforeValue();
        if (!CanonicalJson.IsExactInteger(value))
        {
            // The canonicaliser's message for the same value.
            CanonicalJson.WriteInteger(_output, value, path);
        }

        var span = _output.GetSpan(24);
        value.TryFormat(span, out int written, default, CultureInfo.InvariantCulture);
        _output.Advance(written);
    }

    public void Number(double value, string path)
    {
        BeforeValue();

        // .NET's shortest round-trip digits in fixed notation (no exponent) are exactly ECMAScript's for the same value:
        // .NET switches to an exponent below 1e-5 and from 1e15, ECMAScript only below 1e-6 and from 1e21, so every
        // fixed .NET form is also a fixed ECMAScript form. Exponent forms, zeros and non-finite values take the general path.
        if (value != 0 && double.IsFinite(value))
        {
            var span = _output.GetSpan(32);
            if (value.TryFormat(span, out int written, "R", CultureInfo.InvariantCulture) && span[..written].IndexOf((byte)'E') < 0)
            {
                _output.Advance(written);
                return;
            }
        }

        CanonicalJson.WriteNumber(_output, value, path);
    }

    public void Bool(bool value)
    {
        BeforeValue();
        _output.Write(value ? "true"u8 : "false"u8);
    }

    public void Null()
    {
        BeforeValue();
        _output.Write("null"u8);
    }

    private void BeforeValue()
    {
        if (_afterName)
        {
            _afterName = false;
            return;
        }

        // An array item (or the top-level value): a comma after the first.
        if (_depth > 0)
        {
            if (_hasItem[_depth])
            {
                Raw((byte)',');
            }

            _hasItem[_depth] = true;
        }
    }

    private void Push()
    {
        if (++_depth >= MaxDepth)
        {
            throw new InvalidOperationException($"canonical writer nested deeper than {MaxDepth}.");
        }

        _lastName[_depth] = null;
        _hasItem[_depth] = false;
    }

    private void Pop()
    {
        if (_depth == 0)
        {
            throw new InvalidOperationException("canonical writer: end without a begin.");
        }

        _depth--;
    }

    private void Raw(byte b)
    {
        _output.GetSpan(1)[0] = b;
        _output.Advance(1);
    }
}
