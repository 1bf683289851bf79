using System.Security.Cryptography;
using System.Text;
using BeakerHelpers.Core.Payload;

namespace BeakerHelpers.Core.Tests;

/// <summary>Encrypted sessions: vectors computed with Beaker's own functions (docs/storage.md#encryption), wrong keys, damaged values.</summary>
public class EncryptionTests
{
    private const string EncryptKey = "myencryptkey";
    private const string ValidateKey = "myvalidatekey";
    private const string Ctr128 = "AAAAAAAAAAAAAAAAAAAAAA==Yu7Q5Q0/fggZWYOXYpOM0KPiiyrTyspX0soYUiSQSHu897uOUlh3EdF7NprQrLbH5m2q6X2eAz+Uj0osW3PvDZnnb4+uS0STqiTQJc9K5rHRjqTpWRpbJcE=";
    private const string Ctr48 = "AAAAAAAAv3VlbowErkMpIJqLxqEU/HudOG2rlJdEWxQf3gjIzEjpm4/0m4CikOFcyhtHIAalhiklm/v9PNZ3U2QGB5U29WkjkcBDOp0WBdQIH4QbT0KhIiqt7JYSMME=";
    private const string Gcm128 = "AAAAAAAAAAAAAAAAAAAAAA==AAECAwQFBgcICQoLBkw3Q+m7lLL0T/WTU7jX4vLbaCBs/jNr2K91uiH+9kGrU/r+I8nVszu6YF20zjE4ZM0GXkgX8exRh7rj0W7E+faZRKvdaZp8L8dM1f7O4fszM0c9qmiMgxE2GX7mrplcoEiAhJAvrjVw";
    private const string PicklePlaintext = "80027d710028580e0000005f61636365737365645f74696d6571014741d954fc40000000580e0000005f6372656174696f6e5f74696d6571024741d954fc40000000580400000075736572710358030000006a6f657104752e";

    private static Dictionary<string, object?> Decode(string value, SessionKeys keys)
    {
        var payload = new SessionPayloadDecoder(keys: keys).Decode(TestPickles.SessionText(value));
        Assert.Equal(PayloadLayout.Encrypted, payload.Layout);
        return payload.Values.ToDictionary(p => p.Key, p => p.Value);
    }

    [Theory]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA==", "fc340c1db3d0e78324b22ff10fa55537335e279419aea7d6fa7264f930ab55f1")]
    [InlineData("AAAAAAAA", "9c9d9df7173ced5efd1f63cfef333293c653c65ede7309418dcca68b5eed605c")]
    public void TheKeyIsPbkdf2Sha1OfTheEncryptKeySaltedWithValidateKeyAndNonce(string nonce, string expected)
    {
        var key = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(EncryptKey), Encoding.UTF8.GetBytes(ValidateKey + nonce), 1, HashAlgorithmName.SHA1, 32);
        Assert.Equal(expected, Convert.ToHexString(key).ToLowerInvariant());
    }

    [Theory]
    [InlineData(Ctr128, null)]
    [InlineData(Ctr48, null)]
    [InlineData(Ctr48, 48)]
    [InlineData(Ctr128, 128)]
    [InlineData(Gcm128, null)]
    public void TheSpecVectorsDecrypt(string value, int? nonceBits)
    {
        var values = Decode(value, new SessionKeys(EncryptKey, ValidateKey, nonceBits));
        Assert.Equal(1700000000.0, values["_accessed_time"]);
        Assert.Equal(1700000000.0, values["_creation_time"]);
        Assert.Equal("joe", values["user"]);
    }

    [Fact]
    public void CryptoTypeCryptographyReadsGcmOnly()
    {
        Assert.Equal("joe", Decode(Gcm128, new SessionKeys(EncryptKey, ValidateKey, cryptoType: "cryptography"))["user"]);
        var error = Assert.Throws<PayloadException>(() => Decode(Ctr128, new SessionKeys(EncryptKey, ValidateKey, cryptoType: "cryptography")));
        Assert.Equal("SessionDecryptFailed", error.ErrorId);
    }

    [Theory]
    [InlineData(Ctr128)]
    [InlineData(Ctr48)]
    [InlineData(Gcm128)]
    public void AWrongKeyIsAnErrorNeverGarbage(string value)
    {
        var error = Assert.Throws<PayloadException>(() => Decode(value, new SessionKeys("not-the-key", ValidateKey)));
        Assert.Equal("SessionDecryptFailed", error.ErrorId);
        Assert.DoesNotContain("not-the-key", error.Message);
        error = Assert.Throws<PayloadException>(() => Decode(value, new SessionKeys(EncryptKey, "not-the-validate-key")));
        Assert.Equal("SessionDecryptFailed", error.ErrorId);
    }

    [Fact]
    public void WithoutKeysAnEncryptedSessionSaysWhichSettingsAreNeeded()
    {
        var error = Assert.Throws<PayloadException>(() => new SessionPayloadDecoder("bkr.session").Decode(TestPickles.SessionText(Ctr128)));
        Assert.Equal("SessionEncrypted", error.ErrorId);
        Assert.Contains("bkr.session.encrypt_key", error.Message);
        Assert.Contains("-EncryptKey", error.Message);
    }

    [Theory]
    [InlineData("AAAAAAAA")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA==Yu7Q5Q0/fggZWYOXYpOM0KPiiyrTyspX0soYUiSQ")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA==Yu7Q5Q0/fggZ!!!!")]
    public void ATruncatedOrDamagedValueIsAnError(string value)
    {
        var error = Assert.Throws<PayloadException>(() => Decode(value, new SessionKeys(EncryptKey, ValidateKey)));
        Assert.Contains(error.ErrorId, new[] { "SessionCorrupt", "SessionDecryptFailed" });
    }

    [Fact]
    public void TheNoAesCaseStoresThePlaintextAfterTheNonce()
    {
        // Beaker without an AES library (noencryption module): nonce + b64(plaintext) (docs/storage.md#encryption).
        var value = "aInFSUe6vQD0K+RNVnXBnA==" + Convert.ToBase64String(Convert.FromHexString(PicklePlaintext));
        Assert.Equal("joe", Decode(value, new SessionKeys(EncryptKey, ValidateKey))["user"]);
    }

    [Fact]
    public void AValueThatLooksLikeUnencryptedZlibByChanceStillDecrypts()
    {
        // An 8-character nonce keeps the whole value valid base64; this one decodes to 78 9c, a zlib header.
        const string nonce = "eJyrAAAA";
        var key = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(EncryptKey), Encoding.UTF8.GetBytes(ValidateKey + nonce), 1, HashAlgorithmName.SHA1, 32);
        var plain = Convert.FromHexString(PicklePlaintext);
        var (iv, tag, cipher) = (new byte[12], new byte[16], new byte[plain.Length]);
        using (var gcm = new AesGcm(key, 16))
        {
            gcm.Encrypt(iv, plain, cipher, tag);
        }

        var value = nonce + Convert.ToBase64String(iv.Concat(tag).Concat(cipher).ToArray());
        Assert.Equal(new byte[] { 0x78, 0x9c }, Convert.FromBase64String(value)[..2]);
        Assert.Equal("joe", Decode(value, new SessionKeys(EncryptKey, ValidateKey))["user"]);
    }

    [Fact]
    public void KeysNeverShowInText()
    {
        Assert.DoesNotContain(EncryptKey, new SessionKeys(EncryptKey, ValidateKey).ToString());
    }

    /// <summary>
    /// A session that decrypts (the GCM tag proves the keys, or CTR gives a plaintext that opens as a session pickle)
    /// but whose pickle is odd is a corrupt session, never "the keys are not the app's".
    /// </summary>
    [Theory]
    [InlineData("cryptography")]
    [InlineData(null)]
    public void ASessionThatDecryptsButDoesNotReadIsCorruptNotAKeyProblem(string? cryptoType)
    {
        const string nonce = "AAAAAAAAAAAAAAAAAAAAAA==";
        var key = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(EncryptKey), Encoding.UTF8.GetBytes(ValidateKey + nonce), 1, HashAlgorithmName.SHA1, 32);

        // PROTO 2, EMPTY_DICT, then an opcode no pickle has.
        var plaintext = new byte[] { 0x80, 0x02, 0x7d, 0xfe, 0x2e };
        byte[] stored;
        if (cryptoType == "cryptography")
        {
            var iv = new byte[12];
            var tag = new byte[16];
            var cipher = new byte[plaintext.Length];
            using var gcm = new AesGcm(key, 16);
            gcm.Encrypt(iv, plaintext, cipher, tag);
            stored = iv.Concat(tag).Concat(cipher).ToArray();
        }
        else
        {
            // AES-CTR with a zero counter block: the keystream is AES-ECB of the counter.
            using var aes = Aes.Create();
            aes.Key = key;
            var keystream = aes.EncryptEcb(new byte[16], PaddingMode.None);
            stored = plaintext.Select((b, i) => (byte)(b ^ keystream[i])).ToArray();
        }

        var value = nonce + Convert.ToBase64String(stored);
        var ex = Assert.Throws<PayloadException>(() =>
            new SessionPayloadDecoder(keys: new SessionKeys(EncryptKey, ValidateKey, cryptoType: cryptoType)).Decode(TestPickles.SessionText(value)));
        Assert.Equal("SessionCorrupt", ex.ErrorId);
        Assert.Contains("decrypts with the given keys", ex.Message);
        Assert.Contains("unknown opcode 0xfe", ex.Message);
    }

    /// <summary>
    /// CBC with a zero IV decrypts the first block of an ECB session right, and now and then its padding checks out
    /// too: that candidate looks like a session pickle and fails, and the ECB one after it must still be tried.
    /// </summary>
    [Fact]
    public void AnEcbSessionWhoseCbcDecryptionStartsLikeAPickleStillDecodes()
    {
        const string nonce = "AAAAAAAA";
        var key = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(EncryptKey), Encoding.UTF8.GetBytes(ValidateKey + nonce), 1, HashAlgorithmName.SHA1, 32);
        using var aes = Aes.Create();
        aes.Key = key;
        for (var n = 1; n < 5000; n++)
        {
            // {'user': <n's own 20 letters>} at protocol 2, padded with spaces as Beaker 1.6.2's pycrypto module did.
            var letters = new Random(n);
            var name = new string(Enumerable.Range(0, 20).Select(_ => (char)('a' + letters.Next(26))).ToArray());
            var user = Encoding.ASCII.GetBytes(name);
            var pickle = new byte[] { 0x80, 0x02, 0x7d, (byte)'X', 4, 0, 0, 0 }.Concat("user"u8.ToArray())
                .Concat(new byte[] { (byte)'X' }).Concat(BitConverter.GetBytes(user.Length)).Concat(user).Concat(new byte[] { (byte)'s', (byte)'.' }).ToArray();
            var padded = pickle.Concat(Enumerable.Repeat((byte)' ', 16 - (pickle.Length % 16))).ToArray();
            var cipher = aes.EncryptEcb(padded, PaddingMode.None);
            try
            {
                aes.DecryptCbc(cipher, new byte[16], PaddingMode.PKCS7);
            }
            catch (CryptographicException)
            {
                continue;
            }

            var value = nonce + Convert.ToBase64String(cipher);
            var values = Decode(value, new SessionKeys(EncryptKey, ValidateKey));
            Assert.Equal(name, values["user"]);
            return;
        }

        Assert.Fail("no session length gave a CBC decryption with valid padding");
    }
}
