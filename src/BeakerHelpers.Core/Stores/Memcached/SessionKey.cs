using System.Text;

namespace BeakerHelpers.Core.Stores.Memcached;

/// <summary>
/// A session's key on a memcached server, '&lt;id&gt;_session', held compactly: the id as 16 bytes when it is Beaker's 32
/// lowercase hex digits (every id Beaker makes), else the id's bytes as the server has them.
/// </summary>
internal readonly record struct SessionKey(Guid Hex, byte[]? Other)
{
    public const string Suffix = "_session";

    /// <summary>memcached's longest key.</summary>
    public const int MaxKeyBytes = 250;

    private static ReadOnlySpan<byte> SuffixBytes => "_session"u8;

    /// <summary>The session id, as Beaker and the cmdlets name it.</summary>
    public string Id => Other is null ? Hex.ToString("N") : Encoding.UTF8.GetString(Other);

    /// <summary>The bytes of the key on the wire.</summary>
    public int Length => (Other?.Length ?? 32) + Suffix.Length;

    /// <summary>A key a server listed: a session key when it ends in '_session' after a non-empty id.</summary>
    public static bool TryParse(ReadOnlySpan<byte> key, out SessionKey sessionKey)
    {
        sessionKey = default;
        if (key.Length <= SuffixBytes.Length || !key.EndsWith(SuffixBytes))
        {
            return false;
        }

        sessionKey = Of(key[..^SuffixBytes.Length]);
        return true;
    }

    /// <summary>
    /// The key of an id the operator gave; false when no memcached key can be made of it (a space or a control
    /// character, or longer than memcached's keys): no server can hold such a session, and it would break the command.
    /// </summary>
    public static bool TryOf(string id, out SessionKey sessionKey)
    {
        sessionKey = default;
        var bytes = Encoding.UTF8.GetBytes(id);
        if (bytes.Length == 0 || bytes.Length + SuffixBytes.Length > MaxKeyBytes || bytes.AsSpan().IndexOfAnyInRange((byte)0, (byte)' ') >= 0 || bytes.AsSpan().Contains((byte)0x7f))
        {
            return false;
        }

        sessionKey = Of(bytes);
        return true;
    }

    /// <summary>Writes the key as the server has it.</summary>
    public int WriteTo(Span<byte> destination)
    {
        int written;
        if (Other is null)
        {
            Hex.TryFormat(destination, out written, "N");
        }
        else
        {
            Other.CopyTo(destination);
            written = Other.Length;
        }

        SuffixBytes.CopyTo(destination[written..]);
        return written + SuffixBytes.Length;
    }

    private static SessionKey Of(ReadOnlySpan<byte> id)
    {
        if (id.Length == 32 && !id.ContainsAnyExcept(LowerHex))
        {
            Span<char> chars = stackalloc char[32];
            Encoding.ASCII.GetChars(id, chars);
            return new SessionKey(Guid.ParseExact(chars, "N"), null);
        }

        return new SessionKey(Guid.Empty, id.ToArray());
    }

    private static readonly System.Buffers.SearchValues<byte> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef"u8);
}
