using System.Security.Cryptography;
using System.Text;
using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Payload;
using BeakerHelpers.Core.Sessions;

namespace BeakerHelpers.Core.Cookies;

/// <summary>What a session cookie turned out to be (docs/cookies.md).</summary>
public sealed record CookieSession(string CookieName, string SessionId, bool Verified)
{
    /// <summary>A cookie session (type = cookie): the session itself, decoded from the cookie.</summary>
    public SessionRecord? Session { get; init; }
}

/// <summary>
/// Reads Beaker's session cookie as the app's settings say it is made (docs/cookies.md): a cookie session is
/// HMAC-SHA1(validate_key, payload) in 40 hex digits, then the payload (base64 of the serialized session, or nonce and
/// ciphertext with encrypt_key); a server-side session's cookie is HMAC-SHA1(secret, id) then the id, or the bare id
/// without a secret. Signatures are compared in constant time, and nothing is decoded before its signature holds.
/// </summary>
public sealed class CookieReader
{
    private const int SignatureLength = 40;

    private readonly SessionSettings _settings;
    private readonly SessionReader _reader;

    public CookieReader(SessionSettings settings, TimeZoneInfo zone)
    {
        _settings = settings;
        _reader = new SessionReader(settings.Decoder(), zone);
        IsCookieSession = string.Equals(settings.Type, "cookie", StringComparison.OrdinalIgnoreCase);
        if (IsCookieSession && settings.ValidateKey == null)
        {
            throw new BeakerException("KeyMissing", BeakerErrorKind.InvalidArgument,
                $"{settings.Source} keeps sessions in the cookie (type = cookie), which Beaker signs with {settings.Prefix}.validate_key; it is not set there nor given as -ValidateKey.");
        }
    }

    /// <summary>The cookie's name: the settings' key, else Beaker's default.</summary>
    public string CookieName => _settings.Cookie.Name ?? "beaker.session.id";

    /// <summary>Whether the sessions live in the cookie itself (type = cookie) rather than in a store.</summary>
    public bool IsCookieSession { get; }

    /// <summary>Whether a server-side session's id is signed (the settings have a secret).</summary>
    public bool SignsIds => _settings.Cookie.Secret != null;

    /// <summary>The session a cookie value, name=value pair or header holds.</summary>
    public CookieSession Read(string input)
    {
        var value = CookieText.ValueOf(input, CookieName);
        if (value.Length == 0)
        {
            throw Malformed("is empty");
        }

        if (!IsCookieSession)
        {
            return ServerSideId(value);
        }

        var payload = Verified(value, _settings.ValidateKey!, "validate_key");
        var description = $"cookie '{CookieName}'";
        DecodedPayload decoded;
        try
        {
            decoded = _reader.Decoder.DecodeSessionText(payload);
        }
        catch (PayloadException ex)
        {
            throw new BeakerException("CookieUnreadable", BeakerErrorKind.InvalidData, $"The {description} is signed by the app's validate_key but cannot be read: {ex.Message}.", ex);
        }

        var values = decoded.Values as List<KeyValuePair<string, object?>> ?? decoded.Values.ToList();
        var id = values.FirstOrDefault(p => p.Key == BeakerKeys.Id).Value as string ?? string.Empty;
        var accessed = _reader.AppTime(values.FirstOrDefault(p => p.Key == BeakerKeys.AccessedTime).Value) ?? default;
        var record = _reader.FromValues(id, accessed, description, decoded.Layout, values);
        return new CookieSession(CookieName, id, Verified: true) { Session = record };
    }

    private CookieSession ServerSideId(string value)
    {
        if (_settings.Cookie.Secret is not { } secret)
        {
            return new CookieSession(CookieName, value, Verified: false);
        }

        return new CookieSession(CookieName, Verified(value, secret, "secret"), Verified: true);
    }

    /// <summary>The signed text after the signature, once HMAC-SHA1(key, text) matches it (compared in constant time).</summary>
    private string Verified(string value, string key, string keyName)
    {
        if (value.Length <= SignatureLength || !IsHex(value.AsSpan(0, SignatureLength)))
        {
            throw Invalid($"it does not start with the 40 hex digits of a signature");
        }

        var text = value[SignatureLength..];
#pragma warning disable CA5350 // Beaker signs its cookies with HMAC-SHA1 (docs/cookies.md): verifying them needs it.
        var expected = HMACSHA1.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(text));
#pragma warning restore CA5350
        var given = Convert.FromHexString(value.AsSpan(0, SignatureLength));
        if (!CryptographicOperations.FixedTimeEquals(expected, given))
        {
            throw Invalid($"its signature does not match the app's {keyName} (another app's cookie, a changed value, or other keys)");
        }

        return text;
    }

    private static bool IsHex(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private BeakerException Invalid(string why) =>
        new("CookieSignatureInvalid", BeakerErrorKind.InvalidData, $"The cookie '{CookieName}' is not genuine: {why}. Nothing was decoded.");

    private BeakerException Malformed(string why) =>
        new("CookieMalformed", BeakerErrorKind.InvalidArgument, $"The cookie '{CookieName}' {why}.");
}
