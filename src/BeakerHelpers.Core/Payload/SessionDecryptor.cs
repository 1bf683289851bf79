using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace BeakerHelpers.Core.Payload;

/// <summary>The keys Beaker encrypts sessions with (docs/storage.md#encryption). Never shown: <see cref="ToString"/> hides them.</summary>
public sealed class SessionKeys
{
    public SessionKeys(string encryptKey, string validateKey, int? nonceBits = null, string? cryptoType = null)
    {
        EncryptKey = encryptKey;
        ValidateKey = validateKey;
        NonceBits = nonceBits;
        CryptoType = string.IsNullOrWhiteSpace(cryptoType) ? null : cryptoType.Trim().ToLowerInvariant();
    }

    public string EncryptKey { get; }

    public string ValidateKey { get; }

    /// <summary>encrypt_nonce_bits when configured; otherwise the nonce length is read from the value itself.</summary>
    public int? NonceBits { get; }

    /// <summary>crypto_type when configured ('cryptography', 'nss', 'pycrypto', 'default').</summary>
    public string? CryptoType { get; }

    public override string ToString() => "SessionKeys(***)";
}

/// <summary>
/// Undoes Beaker's server-side encryption (docs/storage.md#encryption, docs/storage.md#payload): V = nonce + b64(cipher(key, serialized dict)),
/// key = PBKDF2-HMAC-SHA1(encrypt_key, validate_key + nonce, 1 iteration, 32 bytes). The cipher is not stored,
/// so every cipher some Beaker version used is tried, in the order docs/storage.md#encryption gives; CTR, ECB and the
/// no-AES case have no integrity check, so the caller accepts a plaintext only if it decodes.
/// </summary>
public sealed class SessionDecryptor
{
    private const int KeyBytes = 32;
    private const int GcmNonceBytes = 12;
    private const int GcmTagBytes = 16;

    private readonly SessionKeys _keys;
    private readonly byte[] _password;

    public SessionDecryptor(SessionKeys keys)
    {
        _keys = keys;
        _password = Encoding.UTF8.GetBytes(keys.EncryptKey);
    }

    /// <summary>The Beaker crypto modules, for messages.</summary>
    public static string CipherNames => "AES-256-CTR (pycryptodome, pycryptopp), AES-256-GCM (cryptography), AES-256-CBC (nss), AES-ECB (Beaker 1.6.2-1.6.3) and no encryption";

    /// <summary>
    /// The plaintexts <paramref name="value"/> may decrypt to, most likely first, each with the cipher's name.
    /// Only those that look like Beaker's serializers' output (pickle protocol 2, or zlib) are given.
    /// </summary>
    public IEnumerable<(byte[] Plaintext, string Cipher)> Candidates(string value)
    {
        foreach (var nonceLength in NonceLengths(value))
        {
            if (value.Length <= nonceLength)
            {
                continue;
            }

            var nonce = value.Substring(0, nonceLength);
            byte[] payload;
            try
            {
                payload = Convert.FromBase64String(value.Substring(nonceLength));
            }
            catch (FormatException)
            {
                continue;
            }

            var key = Rfc2898DeriveBytes.Pbkdf2(_password, Encoding.UTF8.GetBytes(_keys.ValidateKey + nonce), 1, HashAlgorithmName.SHA1, KeyBytes);
            foreach (var candidate in Decryptions(payload, key))
            {
                if (LooksSerialized(candidate.Plaintext))
                {
                    yield return candidate;
                }
            }
        }
    }

    /// <summary>Whether a value could be Beaker-encrypted at all: long enough and base64 after a nonce.</summary>
    public static bool MayBeEncrypted(string value) => NonceLengthsFor(value, null).Any(n => value.Length > n);

    private IEnumerable<int> NonceLengths(string value) => NonceLengthsFor(value, _keys.NonceBits);

    /// <summary>
    /// The configured nonce size first; then what the value shows: a 128-bit nonce is 24 base64 characters
    /// ending in '==', the 48-bit one (before Beaker 1.8, or encrypt_nonce_bits = 48) 8 characters (docs/storage.md#encryption).
    /// </summary>
    private static IEnumerable<int> NonceLengthsFor(string value, int? configuredBits)
    {
        var lengths = new List<int>(3);
        if (configuredBits is { } bits && bits > 0 && bits % 8 == 0)
        {
            lengths.Add(((4 * (bits / 8) / 3) + 3) & ~3);
        }

        lengths.Add(value.Length > 24 && value[22] == '=' && value[23] == '=' ? 24 : 8);
        lengths.Add(24);
        lengths.Add(8);
        return lengths.Distinct();
    }

    private IEnumerable<(byte[] Plaintext, string Cipher)> Decryptions(byte[] payload, byte[] key)
    {
        if (_keys.CryptoType == "cryptography")
        {
            if (Gcm(payload, key) is { } authenticated)
            {
                yield return (authenticated, "AES-256-GCM");
            }

            yield break;
        }

        using var aes = Aes.Create();
        aes.Key = key;
        if (_keys.CryptoType != "nss")
        {
            yield return (Ctr(aes, payload), "AES-256-CTR");
            yield return (payload, "no encryption");
        }

        if (payload.Length > 0 && payload.Length % 16 == 0)
        {
            if (Cbc(aes, payload) is { } cbc)
            {
                yield return (cbc, "AES-256-CBC");
            }

            if (_keys.CryptoType != "nss")
            {
                yield return (EcbSpacePadded(aes, payload), "AES-ECB");
            }
        }

        if (_keys.CryptoType == null && Gcm(payload, key) is { } gcm)
        {
            yield return (gcm, "AES-256-GCM");
        }
    }

    /// <summary>CTR with a 16-byte counter starting at zero, incremented big-endian over all 128 bits (docs/storage.md#encryption).</summary>
    private static byte[] Ctr(Aes aes, byte[] payload)
    {
        var blocks = (payload.Length + 15) / 16;
        var counters = new byte[blocks * 16];
        for (var i = 0; i < blocks; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(counters.AsSpan(i * 16 + 8), (ulong)i);
        }

        var keystream = aes.EncryptEcb(counters, PaddingMode.None);
        var plain = new byte[payload.Length];
        for (var i = 0; i < payload.Length; i++)
        {
            plain[i] = (byte)(payload[i] ^ keystream[i]);
        }

        return plain;
    }

    private static byte[]? Cbc(Aes aes, byte[] payload)
    {
        try
        {
            return aes.DecryptCbc(payload, new byte[16], PaddingMode.PKCS7);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>Beaker 1.6.2-1.6.3 padded with 1-16 spaces and decrypted with .rstrip().</summary>
    private static byte[] EcbSpacePadded(Aes aes, byte[] payload)
    {
        var plain = aes.DecryptEcb(payload, PaddingMode.None);
        var end = plain.Length;
        while (end > 0 && plain[end - 1] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0b or 0x0c)
        {
            end--;
        }

        return plain[..end];
    }

    /// <summary>iv(12) | tag(16) | ciphertext, no associated data; null when the tag does not match (a wrong key).</summary>
    private static byte[]? Gcm(byte[] payload, byte[] key)
    {
        if (payload.Length < GcmNonceBytes + GcmTagBytes)
        {
            return null;
        }

        var plain = new byte[payload.Length - GcmNonceBytes - GcmTagBytes];
        using var gcm = new AesGcm(key, GcmTagBytes);
        try
        {
            gcm.Decrypt(payload.AsSpan(0, GcmNonceBytes), payload.AsSpan(GcmNonceBytes + GcmTagBytes), payload.AsSpan(GcmNonceBytes, GcmTagBytes), plain);
            return plain;
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
    }

    /// <summary>What Beaker's serializers produce: pickle protocol 2 (80 02) or a zlib stream (78 xx, header checksum).</summary>
    internal static bool LooksSerialized(byte[] plain) =>
        plain.Length >= 2 && ((plain[0] == 0x80 && plain[1] == 0x02) || (plain[0] == 0x78 && ((plain[0] << 8) | plain[1]) % 31 == 0));
}
