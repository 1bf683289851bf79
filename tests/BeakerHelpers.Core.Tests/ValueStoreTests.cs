using System.Text.Json;
using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Payload;
using BeakerHelpers.Core.Payload.Values;
using BeakerHelpers.Core.Sessions;
using BeakerHelpers.Core.Stores;

namespace BeakerHelpers.Core.Tests;

/// <summary>
/// Sessions holding application objects and standard-library values, written by real Beaker from Python 3.11
/// (tests/fixtures/make_value_stores.py) at protocol 5 (SQL, Beaker 1.11), 2 (Beaker 1.12 and encrypted) and 4
/// (file store): every value as Python itself described it next to the store.
/// </summary>
public class ValueStoreTests
{
    private static readonly string Directory = Path.Combine(FixtureStore.Directory, "..", "values");

    private static readonly JsonElement Expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "expected.json"))).RootElement;

    public static IEnumerable<object[]> Stores() => new[] { "values.ini", "values-crypto.ini", "files.ini" }.Select(s => new object[] { s });

    [Theory]
    [MemberData(nameof(Stores))]
    public void EveryValueIsWhatPythonReported(string ini)
    {
        var sessions = Read(ini);
        var expected = Expected.GetProperty("sessions").EnumerateArray()
            .Where(s => ini == "files.ini" ? s.GetProperty("store").GetString() == "files" : s.GetProperty("store").GetString() == "values.db")
            .Where(s => ini != "values.ini" || !s.GetProperty("layout").GetString()!.StartsWith('C'))
            .ToList();
        Assert.NotEmpty(expected);
        foreach (var session in expected)
        {
            var id = session.GetProperty("id").GetString()!;
            var result = Assert.Single(sessions, r => r.Id == id);
            Assert.Null(result.Error);
            var values = result.Session!.Values.ToDictionary(p => p.Key, p => p.Value);
            foreach (var property in session.GetProperty("values").EnumerateObject())
            {
                Assert.True(values.ContainsKey(property.Name), $"{id}: key {property.Name} missing");
                ExpectedValue.AssertMatches(property.Value, values[property.Name], $"{session.GetProperty("layout").GetString()}:{property.Name}");
            }
        }
    }

    [Fact]
    public void AnEncryptedSessionWithoutKeysSaysSo()
    {
        var encrypted = Expected.GetProperty("sessions").EnumerateArray().Single(s => s.GetProperty("layout").GetString()!.StartsWith('C')).GetProperty("id").GetString();
        var result = Read("values.ini").Single(r => r.Id == encrypted);
        Assert.Equal("SessionEncrypted", result.Error?.ErrorId);
    }

    [Fact]
    public void SharedReferencesStayShared()
    {
        foreach (var ini in new[] { "values.ini", "files.ini" })
        {
            foreach (var result in Read(ini).Where(r => r.Session != null))
            {
                var values = result.Session!.Values.ToDictionary(p => p.Key, p => p.Value);
                var twice = Assert.IsType<PythonList>(values["twice"]);
                Assert.IsType<PythonDict>(twice[0]);
                Assert.Same(twice[0], twice[1]);
                // The list that contains itself: met again inside, it is the very same list.
                var loop = Assert.IsType<PythonList>(values["loop"]);
                Assert.Same(loop, loop[1]);
            }
        }
    }

    [Fact]
    public void NestedValuesShowReadably()
    {
        var values = Read("values.ini").First(r => r.Session != null).Session!.Values.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("Role.EDITOR", values["role"]!.ToString());
        Assert.Equal("app_objects.Plain{user_id=7, name=Ann, prefs={theme: dark, lang: lt}}", values["plain"]!.ToString());
        Assert.Equal("{b: 1, a: 2}", values["ordered"]!.ToString());
        Assert.Equal("range(0, 10, 2)", values["span"]!.ToString());
        Assert.Equal("1/3", values["fraction"]!.ToString());
        Assert.Equal("ValueError('bad value', 42)", values["error"]!.ToString());
        Assert.Equal("a\\x00b\\x1b[31mred\\n", PythonText.Display(values["control"]));
        Assert.Equal("[start, [start, [start, [start, [start, [start, […]]]]]]]", PythonText.Display(values["loop"]));
        var keys = Assert.IsAssignableFrom<PythonDict>(values["odd_keys"]);
        Assert.Equal(new[] { "None", "(1, 'a')", "1.5", "True", "frozenset({2})", "7", "name" }, keys.Keys.Cast<string>());
        Assert.Equal("none", keys[null]);
        Assert.Equal("int", keys[7L]);
        Assert.True(values["role"]!.Equals("Role.EDITOR"));
    }

    private static List<SessionReadResult> Read(string ini)
    {
        var config = PasteDeployLoader.Load(Path.GetFullPath(Path.Combine(Directory, ini)), null);
        var settings = SessionSettings.FromConfig(config, SessionSettings.DefaultPrefix, Directory);
        using var store = SessionStoreFactory.Open(settings);
        var reader = new SessionReader(new SessionPayloadDecoder(keys: settings.Keys()));
        return reader.Read(store, null, CancellationToken.None).ToList();
    }
}
