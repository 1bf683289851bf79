using BeakerHelpers.Core.Cookies;

namespace BeakerHelpers.Core.Tests;

/// <summary>Finding the session cookie in what a person pastes (docs/cookies.md).</summary>
public sealed class CookieTextTests
{
    private const string Name = "beaker.session.id";

    [Theory]
    [InlineData("abc123==", "abc123==")]
    [InlineData("beaker.session.id=abc123==", "abc123==")]
    [InlineData("Cookie: _ga=GA1.2; beaker.session.id=abc123==; theme=dark", "abc123==")]
    [InlineData("cookie:beaker.session.id=abc123==", "abc123==")]
    [InlineData("Set-Cookie: beaker.session.id=abc123==; Path=/; HttpOnly; SameSite=Lax", "abc123==")]
    [InlineData(" beaker.session.id=abc123==; Path=/", "abc123==")]
    [InlineData("beaker.session.id=\"a\\033b\\\"c\\\\d\"", "a\u001bb\"c\\d")]
    public void FindsTheValueInEveryForm(string input, string expected) => Assert.Equal(expected, CookieText.ValueOf(input, Name));

    [Fact]
    public void AHeaderWithoutTheCookieNamesTheCookiesItHoldsAndNoValue()
    {
        var ex = Assert.Throws<BeakerException>(() => CookieText.ValueOf("Cookie: _ga=SECRETVALUE; theme=dark", Name));
        Assert.Equal("CookieNotFound", ex.ErrorId);
        Assert.Contains("'_ga', 'theme'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRETVALUE", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InputPastTheLimitIsRefused()
    {
        var ex = Assert.Throws<BeakerException>(() => CookieText.ValueOf(new string('a', CookieText.MaxInputLength + 1), Name));
        Assert.Equal("CookieMalformed", ex.ErrorId);
    }
}
