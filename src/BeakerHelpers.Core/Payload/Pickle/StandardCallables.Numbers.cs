using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using BeakerHelpers.Core.Payload.Values;

namespace BeakerHelpers.Core.Payload.Pickle;

/// <summary>Decimal, Fraction, ipaddress values, pathlib paths and array.array (docs/pickle.md).</summary>
internal static partial class StandardCallables
{
    /// <summary>Decimal(text): a decimal; NaN and Infinity (which decimal cannot hold) as a double; past decimal's range, a double too.</summary>
    private static object? DecimalNumber(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        if (args.Length != 1 || Text(args[0]) is not { } text)
        {
            return null;
        }

        text = text.Trim();
        switch (text.ToLowerInvariant().TrimStart('+'))
        {
            case "nan":
            case "snan":
            case "-nan":
            case "-snan":
                return double.NaN;
            case "infinity":
            case "inf":
                return double.PositiveInfinity;
            case "-infinity":
            case "-inf":
                return double.NegativeInfinity;
        }

        if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var approximate) ? approximate : text;
    }

    /// <summary>Fraction(numerator, denominator), or Fraction('n/d') from older Pythons: shown as n/d.</summary>
    private static object? Fraction(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        object? numerator;
        object? denominator;
        switch (args)
        {
            case [var n, var d] when n is long or BigInteger && d is long or BigInteger:
                (numerator, denominator) = (n, d);
                break;
            case [var only] when Text(only) is { } text:
                var parts = text.Split('/');
                if (parts.Length > 2 || !BigInteger.TryParse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var top))
                {
                    return null;
                }

                var bottom = BigInteger.One;
                if (parts.Length == 2 && !BigInteger.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out bottom))
                {
                    return null;
                }

                (numerator, denominator) = (Small(top), Small(bottom));
                break;
            default:
                return null;
        }

        var fraction = new PythonObject("fractions.Fraction", $"{PythonText.Display(numerator)}/{PythonText.Display(denominator)}");
        fraction.Set("numerator", "numerator", numerator);
        fraction.Set("denominator", "denominator", denominator);
        return fraction;
    }

    /// <summary>ipaddress addresses (an int or text), networks and interfaces (text): their text, as Python prints them.</summary>
    private static object? IpAddress(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        var kind = ((PyGlobal)call.Callable!).Name;
        switch (args)
        {
            case [long number] when kind == "IPv4Address" && number is >= 0 and <= uint.MaxValue:
                return new System.Net.IPAddress(BitConverter.GetBytes(BinaryPrimitives.ReverseEndianness((uint)number))).ToString();
            case [var number] when kind == "IPv6Address" && number is long or BigInteger:
                var big = number is long l ? new BigInteger(l) : (BigInteger)number;
                if (big.Sign < 0 || big.GetByteCount(isUnsigned: true) > 16)
                {
                    return null;
                }

                var bytes = new byte[16];
                var raw = big.ToByteArray(isUnsigned: true, isBigEndian: true);
                raw.CopyTo(bytes, 16 - raw.Length);
                return new System.Net.IPAddress(bytes).ToString();
            case [var text] when Text(text) is { } t:
                return t;
            case [PyTuple { Count: 2 } pair] when pair.Items[1] is long prefix && mapper.Map(new PyCall(new PyGlobal("ipaddress", kind.Replace("Network", "Address").Replace("Interface", "Address")), new PyTuple(new[] { pair.Items[0] }), null, false), depth + 1) is string address:
                return address + "/" + prefix;
            default:
                return null;
        }
    }

    /// <summary>pathlib paths, from their parts: the path's text.</summary>
    private static object? FilePath(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        var parts = args.Select(Text).ToList();
        if (parts.Count == 0 || parts.Any(p => p == null))
        {
            return parts.Count == 0 ? "." : null;
        }

        var windows = ((PyGlobal)call.Callable!).Name.Contains("Windows", StringComparison.Ordinal);
        var separator = windows ? '\\' : '/';
        var path = new StringBuilder();
        foreach (var part in parts)
        {
            if (path.Length > 0 && path[^1] != separator && path[^1] != '/')
            {
                path.Append(separator);
            }

            path.Append(part);
        }

        return path.ToString();
    }

    /// <summary>array.array(typecode, list) (protocol 2) and array._array_reconstructor(cls, typecode, format, bytes): the numbers.</summary>
    private static object? NumberArray(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        switch (args)
        {
            case [var code, PyList list] when Text(code) is not null:
                return mapper.MapList(CollectionsMarshal.AsSpan(list), depth, call);
            case [PyGlobal, var code, long format, var data] when Text(code) is not null && mapper.Map(data, depth + 1) is byte[] bytes && MachineValues(format, bytes) is { } numbers:
                return new PythonList(numbers);
            default:
                return null;
        }
    }

    /// <summary>The machine formats of array's reconstructor (CPython's arraymodule.c: 0-21).</summary>
    private static object?[]? MachineValues(long format, byte[] bytes)
    {
        var (size, read) = format switch
        {
            0 => (1, (Func<byte[], int, object?>)((b, i) => (long)b[i])),
            1 => (1, (b, i) => (long)(sbyte)b[i]),
            2 => (2, (b, i) => (long)BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(i))),
            3 => (2, (b, i) => (long)BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(i))),
            4 => (2, (b, i) => (long)BinaryPrimitives.ReadInt16LittleEndian(b.AsSpan(i))),
            5 => (2, (b, i) => (long)BinaryPrimitives.ReadInt16BigEndian(b.AsSpan(i))),
            6 => (4, (b, i) => (long)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(i))),
            7 => (4, (b, i) => (long)BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(i))),
            8 => (4, (b, i) => (long)BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(i))),
            9 => (4, (b, i) => (long)BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(i))),
            10 => (8, (b, i) => Small(BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(i)))),
            11 => (8, (b, i) => Small(BinaryPrimitives.ReadUInt64BigEndian(b.AsSpan(i)))),
            12 => (8, (b, i) => BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(i))),
            13 => (8, (b, i) => BinaryPrimitives.ReadInt64BigEndian(b.AsSpan(i))),
            14 => (4, (b, i) => (double)BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(i))),
            15 => (4, (b, i) => (double)BinaryPrimitives.ReadSingleBigEndian(b.AsSpan(i))),
            16 => (8, (b, i) => BinaryPrimitives.ReadDoubleLittleEndian(b.AsSpan(i))),
            17 => (8, (b, i) => BinaryPrimitives.ReadDoubleBigEndian(b.AsSpan(i))),
            18 => (2, (b, i) => ((char)BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(i))).ToString()),
            19 => (2, (b, i) => ((char)BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(i))).ToString()),
            20 => (4, (b, i) => Rune(BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(i)))),
            21 => (4, (b, i) => Rune(BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(i)))),
            _ => (0, null),
        };
        if (read == null || bytes.Length % size != 0)
        {
            return null;
        }

        var values = new object?[bytes.Length / size];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = read(bytes, i * size);
        }

        return values;
    }
}
