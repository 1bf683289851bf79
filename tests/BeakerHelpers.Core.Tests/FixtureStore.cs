using System.Text.Json;

namespace BeakerHelpers.Core.Tests;

/// <summary>
/// The stores under tests/fixtures/stores, written by real Beaker (tests/fixtures/make_fixtures.py),
/// and expected.json, which says what the writer saved in each row.
/// </summary>
public static class FixtureStore
{
    public static string Directory { get; } = FindDirectory();

    public static JsonElement Expected { get; } = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "expected.json"))).RootElement;

    public static double GeneratedAt => Expected.GetProperty("generated_at").GetDouble();

    public static IEnumerable<JsonElement> Rows(string db, string? table = null) =>
        Expected.GetProperty("rows").EnumerateArray()
            .Where(r => r.GetProperty("db").GetString() == db && (table == null || r.GetProperty("table").GetString() == table));

    public static JsonElement Row(string db, string id) =>
        Rows(db).Single(r => r.GetProperty("id").GetString() == id);

    private static string FindDirectory()
    {
        var overridden = Environment.GetEnvironmentVariable("BEAKERHELPERS_FIXTURES");
        if (!string.IsNullOrEmpty(overridden))
        {
            return overridden;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "fixtures", "stores");
            if (System.IO.Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("tests/fixtures/stores not found above " + AppContext.BaseDirectory);
    }
}
