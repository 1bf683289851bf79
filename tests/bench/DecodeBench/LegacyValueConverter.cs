using System.Collections;
using System.Collections.Specialized;
using System.Numerics;
using System.Text;
using Razorvine.Pickle.Objects;

namespace BeakerHelpers.DecodeBench;

/// <summary>
/// BeakerHelpers 0.3.0's converter (see LegacyPickleLoader). Turns what the unpickler returns into plain .NET values a PowerShell user can filter and sort:
/// string, long (BigInteger past 64 bits), double, bool, null, DateTime/DateTimeOffset, TimeSpan,
/// decimal, Guid, byte[], object[] for lists, tuples and sets, and OrderedDictionary for dicts
/// and for instances of unknown classes (with a '__class__' entry).
/// </summary>
internal sealed class LegacyValueConverter
{
    /// <summary>Deeper nesting than this is refused rather than risking the stack.</summary>
    public const int MaxDepth = 200;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly bool _redecodePython2Strings;

    /// <param name="redecodePython2Strings">
    /// True for pickles of protocol 0-2, which Python 2 may have written: its byte strings come back as
    /// Latin-1 text, and those that are valid UTF-8 are read as UTF-8 (docs/pickle.md, "Py2 strings").
    /// </param>
    public LegacyValueConverter(bool redecodePython2Strings)
    {
        _redecodePython2Strings = redecodePython2Strings;
    }

    public object? Convert(object? value) => Convert(value, 0);

    /// <summary>A dictionary key as a property name: strings as they are, other keys as their text.</summary>
    public string KeyText(object? key)
    {
        return Convert(key, 0) switch
        {
            null => "None",
            string s => s,
            bool b => b ? "True" : "False",
            IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
            object[] tuple => "(" + string.Join(", ", tuple.Select(KeyText)) + ")",
            var other => other.ToString() ?? string.Empty,
        };
    }

    private object? Convert(object? value, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidDataException($"the value nests more than {MaxDepth} levels deep");
        }

        switch (value)
        {
            case null:
            case bool:
            case double:
            case long:
            case decimal:
            case DateTime:
            case DateTimeOffset:
            case TimeSpan:
            case byte[]:
                return value;
            case string text:
                return _redecodePython2Strings ? RedecodeUtf8(text) : text;
            case int i:
                return (long)i;
            case float f:
                return (double)f;
            case BigInteger big:
                return big >= long.MinValue && big <= long.MaxValue ? (long)big : big;
            case ClassDict instance:
                return ConvertInstance(instance, depth);
            case IDictionary dictionary:
                return ConvertDictionary(dictionary, depth);
            case ICollection collection:
                var array = new object?[collection.Count];
                var index = 0;
                foreach (var item in collection)
                {
                    array[index++] = Convert(item, depth + 1);
                }

                return array;
            case IEnumerable items:
                var list = new List<object?>();
                foreach (var item in items)
                {
                    list.Add(Convert(item, depth + 1));
                }

                return list.ToArray();
            default:
                return value.ToString();
        }
    }

    private OrderedDictionary ConvertDictionary(IDictionary dictionary, int depth)
    {
        var result = new OrderedDictionary(dictionary.Count);
        foreach (DictionaryEntry entry in dictionary)
        {
            var key = Convert(entry.Key, depth + 1) ?? "None";
            if (key is object[] or OrderedDictionary)
            {
                key = KeyText(entry.Key);
            }

            result[key] = Convert(entry.Value, depth + 1);
        }

        return result;
    }

    private object ConvertInstance(ClassDict instance, int depth)
    {
        if (instance.ClassName == "uuid.UUID" && instance.TryGetValue("int", out var number))
        {
            BigInteger? n = number switch { BigInteger b => b, long l => l, int i => i, _ => null };
            if (n is { Sign: >= 0 } uuid)
            {
                var bytes = uuid.ToByteArray(isUnsigned: true, isBigEndian: true);
                if (bytes.Length <= 16)
                {
                    var padded = new byte[16];
                    bytes.CopyTo(padded, 16 - bytes.Length);
                    return Guid.Parse(UuidText(padded));
                }
            }
        }

        var result = new OrderedDictionary { ["__class__"] = instance.ClassName };
        foreach (var pair in instance)
        {
            if (pair.Key != "__class__")
            {
                result[pair.Key] = Convert(pair.Value, depth + 1);
            }
        }

        return result;
    }

    /// <summary>Python's UUID int is the 16 bytes read big-endian; its text form is those bytes in hex, grouped 8-4-4-4-12.</summary>
    private static string UuidText(byte[] bigEndian)
    {
        var hex = System.Convert.ToHexString(bigEndian).ToLowerInvariant();
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }

    private static string RedecodeUtf8(string text)
    {
        var hasHigh = false;
        foreach (var c in text)
        {
            if (c > '\u00ff')
            {
                return text;
            }

            hasHigh |= c >= '\u0080';
        }

        if (!hasHigh)
        {
            return text;
        }

        var bytes = Encoding.Latin1.GetBytes(text);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return text;
        }
    }
}
