using BeakerHelpers.Core.Payload;

namespace BeakerHelpers.Core.Tests;

/// <summary>Vectors computed with Beaker's own functions (docs/storage.md#encryption), as they stand.</summary>
public class PayloadTests
{
    private const string PicklePlaintext = "80027d710028580e0000005f61636365737365645f74696d6571014741d954fc40000000580e0000005f6372656174696f6e5f74696d6571024741d954fc40000000580400000075736572710358030000006a6f657104752e";

    [Fact]
    public void TheUnencryptedVectorDecodes()
    {
        var value = "gAJ9cQAoWA4AAABfYWNjZXNzZWRfdGltZXEBR0HZVPxAAAAAWA4AAABfY3JlYXRpb25fdGltZXECR0HZVPxAAAAAWAQAAAB1c2VycQNYAwAAAGpvZXEEdS4=";
        Assert.Equal(Convert.FromHexString(PicklePlaintext), Convert.FromBase64String(value));
        var payload = new SessionPayloadDecoder().Decode(TestPickles.SessionText(value));
        Assert.Equal(PayloadLayout.Base64Pickle, payload.Layout);
        var values = payload.Values.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(1700000000.0, values["_accessed_time"]);
        Assert.Equal("joe", values["user"]);
    }

    [Fact]
    public void TheJsonVectorDecodes()
    {
        var json = Convert.FromHexString("789cab568a4f4c4e4e2d2e4e4d892fc9cc4d55b25230343780023d031d05a5f8e4a2d4c492ccfc3c1cf2a5c5a9454051a5acfc54a55a00b18e16a2");
        var payload = new SessionPayloadDecoder().Decode(TestPickles.SessionText(Convert.ToBase64String(json)));
        Assert.Equal(PayloadLayout.Base64Json, payload.Layout);
        var values = payload.Values.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(1700000000.0, values["_accessed_time"]);
        Assert.Equal("joe", values["user"]);
    }

    [Fact]
    public void Python2ByteStringsThatAreUtf8ReadAsText()
    {
        // Protocol 0 as Python 2's cPickle writes {'session': {'name': 'J\xc3\xbcrgen', 'flag': True}}.
        var pickle = "(dp1\nS'session'\np2\n(dp3\nS'name'\np4\nS'J\\xc3\\xbcrgen'\np5\nsS'flag'\np6\nI01\nss."u8.ToArray();
        var payload = new SessionPayloadDecoder().Decode(pickle);
        var values = payload.Values.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("J\u00fcrgen", values["name"]);
        Assert.Equal(true, values["flag"]);
    }

    [Fact]
    public void NotAPickleIsCorrupt()
    {
        var ex = Assert.Throws<PayloadException>(() => new SessionPayloadDecoder().Decode("not a pickle"u8.ToArray()));
        Assert.Equal("SessionCorrupt", ex.ErrorId);
    }

    [Fact]
    public void AFlatOldLayoutIsASession()
    {
        var pickle = "(dp1\nS'_accessed_time'\np2\nF1700000000.5\nsS'user'\np3\nS'ann'\np4\ns."u8.ToArray();
        var payload = new SessionPayloadDecoder().Decode(pickle);
        Assert.Equal(PayloadLayout.Flat, payload.Layout);
        Assert.Contains(payload.Values, p => p.Key == "user" && (string?)p.Value == "ann");
    }
}
