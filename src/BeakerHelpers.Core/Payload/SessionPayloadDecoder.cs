using System.IO.Compression;
using System.Text.Json;
using BeakerHelpers.Core.Payload.Pickle;
using BeakerHelpers.Core.Payload.Values;

namespace BeakerHelpers.Core.Payload;

/// <summary>How a row's payload was laid out (docs/storage.md#payload).</summary>
public enum PayloadLayout
{
    /// <summary>{'session': dict}: Beaker 1.2 to 1.11 without encryption.</summary>
    SessionDict,

    /// <summary>{'session': b64(pickle protocol 2)}: Beaker 1.12 and later.</summary>
    Base64Pickle,

    /// <summary>{'session': b64(zlib(json))}: Beaker 1.12 and later with data_serializer = json.</summary>
    Base64Json,

    /// <summary>{'session': nonce + b64(cipher(serialized dict))}: encrypt_key set (Beaker 1.6.2 and later).</summary>
    Encrypted,

    /// <summary>The session keys directly in the namespace dict: Beaker 1.1.3 and earlier.</summary>
    Flat,

    /// <summary>{}: a session deleted under Beaker 1.10 and earlier.</summary>
    Empty,

    /// <summary>Not a session: a cache namespace sharing the table (docs/storage.md#tables).</summary>
    NotSession,
}

/// <summary>A decoded payload: the layout and the session's keys with .NET values, in stored order.</summary>
public sealed record DecodedPayload(PayloadLayout Layout, IReadOnlyList<KeyValuePair<string, object?>> Values);

/// <summary>Decodes the payload of one stored session (docs/storage.md#payload) without running anything from it.</summary>
public sealed class SessionPayloadDecoder
{
    /// <summary>A zlib JSON payload larger than this once inflated is refused (a session is a few KiB).</summary>
    public const int MaxInflatedBytes = 64 * 1024 * 1024;

    private static readonly DecodedPayload EmptyPayload = new(PayloadLayout.Empty, Array.Empty<KeyValuePair<string, object?>>());
    private static readonly DecodedPayload NotSessionPayload = new(PayloadLayout.NotSession, Array.Empty<KeyValuePair<string, object?>>());

    private readonly string _prefix;
    private readonly SessionDecryptor? _decryptor;

    /// <param name="prefix">The settings prefix, to name the settings in error messages.</param>
    /// <param name="keys">The keys of encrypted sessions, when the app sets encrypt_key.</param>
    public SessionPayloadDecoder(string prefix = Config.SessionSettings.DefaultPrefix, SessionKeys? keys = null)
    {
        _prefix = prefix;
        _decryptor = keys == null ? null : new SessionDecryptor(keys);
    }

    public DecodedPayload Decode(byte[] data)
    {
        if (data.Length == 0)
        {
            throw new PayloadException("the stored data is empty");
        }

        var outer = Unpickle(data, "the stored data");
        if (outer.Value is not PyDict namespaceDict)
        {
            throw new PayloadException($"the stored data is a pickled {Describe(outer.Value)}, not the dict Beaker stores");
        }

        if (namespaceDict.Count == 0)
        {
            return EmptyPayload;
        }

        var mapper = new PythonValueMapper(outer.Shared);
        if (TryGetStringKey(namespaceDict, "session", out var value))
        {
            if (namespaceDict.Count != 1)
            {
                return NotSessionPayload;
            }

            return DecodeSessionValue(value, mapper, "the 'session' entry");
        }

        if (TryGetStringKey(namespaceDict, Sessions.BeakerKeys.AccessedTime, out _) || TryGetStringKey(namespaceDict, Sessions.BeakerKeys.CreationTime, out _))
        {
            return new DecodedPayload(PayloadLayout.Flat, Entries(namespaceDict, mapper));
        }

        return NotSessionPayload;
    }

    /// <summary>
    /// Decodes a pickled session value V alone, as the dbm backend stores it under the key 'session' (docs/storage.md#dbm):
    /// the session dict, or the text of Beaker 1.12 and of encrypted sessions.
    /// </summary>
    public DecodedPayload DecodeValue(byte[] data)
    {
        if (data.Length == 0)
        {
            throw new PayloadException("the stored data is empty");
        }

        var value = Unpickle(data, "the stored data");
        if (value.Value is PyDict { Count: 0 })
        {
            return EmptyPayload;
        }

        return DecodeSessionValue(value.Value, new PythonValueMapper(value.Shared), "the stored value");
    }

    /// <summary>
    /// Decodes a session given as text: a cookie session's payload (its signature already checked, docs/cookies.md) or
    /// a value a store keeps as text, which Beaker writes as the 'session' text of 1.12: base64 of the serialized
    /// session, or the nonce and the base64 ciphertext under encrypt_key.
    /// </summary>
    public DecodedPayload DecodeSessionText(string payload) => DecodeText(payload);

    /// <summary>
    /// A session value V's _accessed_time (a UNIX time), or null when it holds none or cannot be read: what Redis and
    /// memcached date sessions by. A plain pickle is first looked into for it among the dict's leading plain entries
    /// (LeadingEntries), then read without mapping its values (the listing maps them later); text (encrypted, or
    /// Beaker 1.12's) is decoded.
    /// </summary>
    public double? AccessedTimeOfValue(byte[] data, bool text = false)
    {
        try
        {
            if (!text)
            {
                if (TryLeadingAccessedTime(data, out var leading))
                {
                    return leading;
                }

                var value = PickleReader.Read(data).Value;
                if (value is PyDict dict)
                {
                    return TryGetStringKey(dict, Sessions.BeakerKeys.AccessedTime, out var accessed) ? UnixTime(accessed) : null;
                }

                if (value is not (string or PyByteString or byte[]))
                {
                    return null;
                }
            }

            foreach (var (key, value) in text ? DecodeValueText(data).Values : DecodeValue(data).Values)
            {
                if (key == Sessions.BeakerKeys.AccessedTime)
                {
                    return UnixTime(value);
                }
            }
        }
        catch (PayloadException)
        {
        }

        return null;
    }

    /// <summary>
    /// A pickled session value's _accessed_time where Beaker puts it, found in its bytes alone (LeadingEntries,
    /// docs/pickle.md#leading-entries); false: it takes reading the pickle (<see cref="AccessedTimeOfValue"/>).
    /// </summary>
    public static bool TryLeadingAccessedTime(ReadOnlySpan<byte> pickle, out double? accessed)
    {
        accessed = null;
        return pickle.Length <= PickleReader.MaxPayloadBytes && LeadingEntries.TryFindNumber(pickle, Sessions.BeakerKeys.AccessedTimeBytes, out accessed);
    }

    private static double? UnixTime(object? value) => value switch { double d => d, long l => l, _ => null };

    /// <summary>A session value V stored as text (memcached keeps a str so): encrypted, or Beaker 1.12's base64.</summary>
    public DecodedPayload DecodeValueText(byte[] data) => data.Length == 0
        ? throw new PayloadException("the stored data is empty")
        : DecodeSessionText(System.Text.Encoding.Latin1.GetString(data));

    private DecodedPayload DecodeSessionValue(object? value, PythonValueMapper mapper, string what) => value switch
    {
        PyDict sessionDict => new DecodedPayload(PayloadLayout.SessionDict, Entries(sessionDict, mapper)),
        string text => DecodeText(text),
        PyByteString bytes => DecodeText(System.Text.Encoding.Latin1.GetString(bytes.Bytes)),
        byte[] bytes => DecodeText(System.Text.Encoding.Latin1.GetString(bytes)),
        _ => throw new PayloadException($"{what} is a {Describe(value)}, neither a dict nor the text Beaker 1.12 stores"),
    };

    private DecodedPayload DecodeText(string text)
    {
        if (TryBase64(text) is { } raw && SessionDecryptor.LooksSerialized(raw))
        {
            try
            {
                return DecodeSerialized(raw, raw[0] == 0x80 ? PayloadLayout.Base64Pickle : PayloadLayout.Base64Json);
            }
            catch (PayloadException) when (_decryptor != null)
            {
                // An 8-character nonce keeps the whole value valid base64, and about one value in 8000 then starts
                // like a serializer's output by chance: with keys at hand, it is an encrypted session after all.
            }
        }

        if (_decryptor == null)
        {
            throw new PayloadException(
                $"the session is encrypted (Beaker's encrypt_key): give {_prefix}.encrypt_key and {_prefix}.validate_key in the ini file, or -EncryptKey and -ValidateKey",
                "SessionEncrypted");
        }

        if (!SessionDecryptor.MayBeEncrypted(text))
        {
            throw new PayloadException("the 'session' text is too short to be an encrypted Beaker session (truncated?)");
        }

        PayloadException? last = null;
        PayloadException? verified = null;
        foreach (var (plaintext, cipher) in _decryptor.Candidates(text))
        {
            try
            {
                return DecodeSerialized(plaintext, PayloadLayout.Encrypted);
            }
            catch (PayloadException ex)
            {
                // A cipher without integrity check gave bytes that only look like a pickle: try the next one. (CBC with a
                // zero IV decrypts an ECB session's first block right, so a good start proves nothing until every
                // cipher has been tried.)
                last = ex;
                if (verified == null && Verified(plaintext, cipher))
                {
                    verified = new PayloadException($"the session decrypts with the given keys ({cipher}), but {ex.Message}", ex.ErrorId, ex);
                }
            }
        }

        // The keys are right (an authenticated cipher, or a plaintext that is plainly a session's pickle or zlib
        // stream) and no cipher gave a readable session: what is odd is the session, and the operator must not be sent
        // to the keys.
        throw verified ?? new PayloadException(
            $"the session cannot be decrypted with the given encrypt_key and validate_key (tried {SessionDecryptor.CipherNames}): the keys are not the app's, or the value is damaged",
            "SessionDecryptFailed", last);
    }

    /// <summary>
    /// Whether a decryption proves the keys: AES-GCM checks its tag; otherwise a protocol-2 pickle that opens with
    /// the session's dict (80 02 7d: one chance in 16 million by accident) or a zlib stream that inflates whole.
    /// </summary>
    private static bool Verified(byte[] plaintext, string cipher)
    {
        if (cipher == "AES-256-GCM")
        {
            return true;
        }

        if (plaintext.Length >= 3 && plaintext[0] == 0x80 && plaintext[1] == 0x02 && plaintext[2] == 0x7d)
        {
            return true;
        }

        if (plaintext.Length >= 2 && plaintext[0] == 0x78)
        {
            try
            {
                Inflate(plaintext);
                return true;
            }
            catch (PayloadException)
            {
                return false;
            }
        }

        return false;
    }

    private static byte[]? TryBase64(string text)
    {
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>What Beaker's serializers wrote: a protocol-2 pickle of the dict, or zlib-compressed JSON.</summary>
    private static DecodedPayload DecodeSerialized(byte[] raw, PayloadLayout layout)
    {
        if (raw[0] == 0x80)
        {
            var inner = Unpickle(raw, "the session pickle");
            if (inner.Value is PyDict dict)
            {
                return new DecodedPayload(layout, Entries(dict, new PythonValueMapper(inner.Shared)));
            }

            throw new PayloadException($"the session pickle holds a {Describe(inner.Value)}, not a dict");
        }

        return new DecodedPayload(layout, DecodeJson(raw));
    }

    private static IReadOnlyList<KeyValuePair<string, object?>> DecodeJson(byte[] compressed)
    {
        var json = Inflate(compressed);
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = PythonValueMapper.MaxDepth });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new PayloadException($"the JSON session is a {document.RootElement.ValueKind}, not an object");
            }

            return document.RootElement.EnumerateObject()
                .Select(p => new KeyValuePair<string, object?>(p.Name, JsonValue(p.Value)))
                .ToList();
        }
        catch (JsonException ex)
        {
            throw new PayloadException("the JSON session is not valid JSON: " + ex.Message, inner: ex);
        }
    }

    /// <summary>
    /// zlib data inflated, at most <see cref="MaxInflatedBytes"/> (a bomb is refused, not allocated); a
    /// <see cref="PayloadException"/> that says <paramref name="what"/> otherwise.
    /// </summary>
    internal static byte[] Inflate(byte[] compressed, string what = "the JSON session")
    {
        try
        {
            using var input = new ZLibStream(new MemoryStream(compressed), CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buffer = new byte[81920];
            int read;
            while ((read = input.Read(buffer, 0, buffer.Length)) > 0)
            {
                if (output.Length + read > MaxInflatedBytes)
                {
                    throw new PayloadException($"{what} inflates to more than {MaxInflatedBytes / (1024 * 1024)} MiB");
                }

                output.Write(buffer, 0, read);
            }

            return output.ToArray();
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            // IOException: zlib's own errors (ZLibException), such as a stream that asks for a preset dictionary.
            throw new PayloadException($"{what} is not valid zlib data: " + ex.Message, inner: ex);
        }
    }

    private static object? JsonValue(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var dict = new PythonDict();
                foreach (var property in element.EnumerateObject())
                {
                    dict.Set(property.Name, property.Name, JsonValue(property.Value));
                }

                return dict;
            case JsonValueKind.Array:
                return new PythonList(element.EnumerateArray().Select(JsonValue).ToArray());
            case JsonValueKind.String:
                return element.GetString();
            case JsonValueKind.Number:
                if (element.TryGetInt64(out var integer))
                {
                    return integer;
                }

                var text = element.GetRawText();
                if (!text.Contains('.') && !text.Contains('e') && !text.Contains('E')
                    && System.Numerics.BigInteger.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var big))
                {
                    return big;
                }

                return element.GetDouble();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }

    private static PickleResult Unpickle(byte[] data, string what)
    {
        try
        {
            return PickleReader.Read(data);
        }
        catch (PayloadException ex)
        {
            throw new PayloadException($"{what} is not a readable pickle: {ex.Message}", ex.ErrorId, ex);
        }
    }

    private static List<KeyValuePair<string, object?>> Entries(PyDict dict, PythonValueMapper mapper)
    {
        var result = new List<KeyValuePair<string, object?>>(dict.Count);
        foreach (var entry in dict.Entries)
        {
            result.Add(new KeyValuePair<string, object?>(mapper.KeyText(entry.Key), mapper.Map(entry.Value)));
        }

        return result;
    }

    /// <summary>Looks a key up by its text: Python 2 writes keys as byte strings, Python 3 as str.</summary>
    private static bool TryGetStringKey(PyDict dict, string key, out object? value)
    {
        foreach (var entry in dict.Entries)
        {
            if ((entry.Key is string k && k == key) || (entry.Key is PyByteString b && b.Bytes.Length == key.Length && System.Text.Encoding.ASCII.GetString(b.Bytes) == key))
            {
                value = entry.Value;
                return true;
            }
        }

        value = null;
        return false;
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        string or PyByteString => "str",
        PyDict => "dict",
        PyList => "list",
        PyTuple => "tuple",
        PySet => "set",
        PyCall call => "call of " + (call.Callable is PyGlobal g ? StandardCallables.QualifiedName(g) : "an object"),
        PyGlobal global => "reference to " + StandardCallables.QualifiedName(global),
        byte[] => "bytes",
        long or System.Numerics.BigInteger => "int",
        double => "float",
        bool => "bool",
        _ => value.GetType().Name,
    };
}
