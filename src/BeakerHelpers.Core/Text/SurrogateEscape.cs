using System.Text;
using System.Text.Unicode;

namespace BeakerHelpers.Core.Text;

/// <summary>
/// Names made of bytes (Redis keys) as .NET strings without losing a byte, the way Python's 'surrogateescape' does:
/// valid UTF-8 decodes as usual, and each byte of an invalid sequence becomes the lone surrogate U+DC80-U+DCFF, which
/// <see cref="Encode"/> turns back into that byte. Shown, such a surrogate reads \udc80 (ScreenText escapes it), as
/// Python's repr writes it (docs/redis.md#keys).
/// </summary>
public static class SurrogateEscape
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes))
        {
            return Encoding.UTF8.GetString(bytes);
        }

        var text = new StringBuilder(bytes.Length);
        while (!bytes.IsEmpty)
        {
            var status = System.Text.Rune.DecodeFromUtf8(bytes, out var rune, out var used);
            if (status == System.Buffers.OperationStatus.Done)
            {
                text.Append(rune.ToString());
            }
            else
            {
                used = Math.Max(used, 1);
                foreach (var b in bytes[..used])
                {
                    text.Append((char)(0xDC00 + b));
                }
            }

            bytes = bytes[used..];
        }

        return text.ToString();
    }

    /// <summary>The bytes <see cref="Decode"/> read: UTF-8, with each lone U+DC80-U+DCFF as the byte it stands for.</summary>
    public static byte[] Encode(string text)
    {
        if (!HasEscapes(text))
        {
            return Strict.GetBytes(text);
        }

        var bytes = new List<byte>(text.Length + 8);
        Span<byte> one = stackalloc byte[4];
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is >= '\udc80' and <= '\udcff' && (i == 0 || !char.IsHighSurrogate(text[i - 1])))
            {
                bytes.Add((byte)(c - 0xDC00));
                continue;
            }

            var length = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            var written = Encoding.UTF8.GetBytes(text.AsSpan(i, length), one);
            bytes.AddRange(one[..written].ToArray());
            i += length - 1;
        }

        return bytes.ToArray();
    }

    private static bool HasEscapes(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] is >= '\udc80' and <= '\udcff' && (i == 0 || !char.IsHighSurrogate(text[i - 1])))
            {
                return true;
            }
        }

        return false;
    }
}
