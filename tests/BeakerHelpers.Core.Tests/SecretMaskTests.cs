using BeakerHelpers.Core.Config;

namespace BeakerHelpers.Core.Tests;

public class SecretMaskTests
{
    [Theory]
    [InlineData("Cannot connect to postgresql://app:s3cr:t@db/x", "Cannot connect to postgresql://app:***@db/x")]
    [InlineData("redis://:hunter22@127.0.0.1:6379/0 refused", "redis://:***@127.0.0.1:6379/0 refused")]
    [InlineData("mysql+pymysql://u:p%40ss@h/db", "mysql+pymysql://u:***@h/db")]
    [InlineData("Host=db;Password=Pa55w0rd;Database=x", "Host=db;Password=***;Database=x")]
    [InlineData("sqlite:///x.db?password=abc&mode=ro", "sqlite:///x.db?password=***&mode=ro")]
    [InlineData("no secret here: postgresql://app@db/x", "no secret here: postgresql://app@db/x")]
    public void UrlPasswordsAndPasswordOptionsAreMaskedWhereverTheyAppear(string text, string masked)
    {
        Assert.Equal(masked, new SecretMask().Mask(text));
    }

    [Fact]
    public void KnownSecretsAreMaskedAsWrittenPercentEncodedAndDoubled()
    {
        var mask = new SecretMask();
        mask.Add("EncKey%Interp-1");
        mask.Add("s3cr:t/pw@x");
        Assert.Equal("the key *** ends in ***", mask.Mask("the key EncKey%Interp-1 ends in EncKey%%Interp-1"));
        Assert.Equal("found '***' here", mask.Mask("found 's3cr%3At%2Fpw%40x' here"));
        mask.Add("EncKey");
        Assert.Equal("*** and ***", mask.Mask("EncKey%Interp-1 and EncKey"));
    }

    [Fact]
    public void EmptyAndSingleCharacterSecretsAreNotMasked()
    {
        var mask = new SecretMask();
        mask.Add(string.Empty);
        mask.Add("a");
        Assert.Equal("a plain text", mask.Mask("a plain text"));
    }
}
