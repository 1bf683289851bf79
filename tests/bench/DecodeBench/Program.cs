using System.Collections;
using System.Diagnostics;
using BeakerHelpers.Core.Payload;
using BeakerHelpers.DecodeBench;
using Microsoft.Data.Sqlite;

// The payload reader's cost per session (build.ps1 -Task Bench): the new reader (SessionPayloadDecoder) against
// BeakerHelpers 0.3.0's (Razorvine.Pickle and its converter, LegacyPickleLoader.cs), in one process, on the same
// payloads: the committed fixture stores, the value stores of real application objects, and the bench's store of
// realistic sessions. Prints a Markdown table. Each figure is the median of alternating passes after a warm-up.
var options = args.Select((a, i) => (a, i)).Where(p => p.a.StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(p => p.a, p => p.i + 1 < args.Length ? args[p.i + 1] : string.Empty);
var stores = options["--stores"];
var values = options["--values"];
var passes = int.Parse(options.GetValueOrDefault("--passes") ?? "7", System.Globalization.CultureInfo.InvariantCulture);

var sets = new List<(string Name, List<byte[]> Payloads)>
{
    ("committed fixture stores (tests/fixtures/stores)", Rows(Path.Combine(stores, "sessions.db"), "beaker_cache")
        .Concat(Rows(Path.Combine(stores, "custom.db"), "web_sessions"))
        .Concat(Enumerable.Range(0, 6).SelectMany(p => Rows(Path.Combine(stores, "protocols.db"), "beaker_p" + p))).ToList()),
    ("application objects (tests/fixtures/values)", Rows(Path.Combine(values, "values.db"), "beaker_cache")
        .Concat(Directory.EnumerateFiles(Path.Combine(values, "files"), "*.cache", SearchOption.AllDirectories).Select(File.ReadAllBytes)).ToList()),
};
if (options.TryGetValue("--db", out var db))
{
    sets.Add(("bench store, realistic sessions (first 100 000)", Rows(db, "beaker_cache", 100_000).ToList()));
}

var decoder = new SessionPayloadDecoder();
Console.WriteLine("| payloads | sessions | 0.3.0 (Razorvine) | new reader | faster by | 0.3.0 failed on |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|");
foreach (var (name, payloads) in sets)
{
    // Encrypted rows need keys, zlib JSON is not pickle: both readers see only the pickled sessions.
    var usable = payloads.Where(p => Decodes(() => decoder.Decode(p))).ToList();
    var oldFailures = usable.Count(p => !Decodes(() => LegacyDecode(p)));
    var oldTimes = new List<double>();
    var newTimes = new List<double>();
    for (var pass = -2; pass < passes; pass++)
    {
        var old = Measure(usable, p => LegacyDecode(p));
        var fresh = Measure(usable, p => decoder.Decode(p));
        if (pass >= 0)
        {
            oldTimes.Add(old);
            newTimes.Add(fresh);
        }
    }

    var oldUs = Median(oldTimes);
    var newUs = Median(newTimes);
    Console.WriteLine($"| {name} | {usable.Count:N0} | {oldUs:0.00} µs | {newUs:0.00} µs | {oldUs / newUs:0.00}x | {oldFailures} |");
}

return 0;

static bool Decodes(Action decode)
{
    try
    {
        decode();
        return true;
    }
    catch (Exception)
    {
        return false;
    }
}

// µs per payload for one pass; a payload a reader cannot decode costs it its exception, as it does in a listing.
static double Measure(List<byte[]> payloads, Action<byte[]> decode)
{
    // A small set is gone through repeatedly, so that a pass lasts long enough to time.
    var rounds = Math.Max(1, 50_000 / payloads.Count);
    var clock = Stopwatch.StartNew();
    for (var round = 0; round < rounds; round++)
    {
        foreach (var payload in payloads)
        {
            try
            {
                decode(payload);
            }
            catch (Exception)
            {
            }
        }
    }

    return clock.Elapsed.TotalMilliseconds * 1000 / payloads.Count / rounds;
}

static double Median(List<double> values)
{
    var sorted = values.OrderBy(v => v).ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

static IEnumerable<byte[]> Rows(string path, string table, int limit = int.MaxValue)
{
    using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
    connection.Open();
    using var command = connection.CreateCommand();
    command.CommandText = $"SELECT data FROM \"{table}\" LIMIT {limit}";
    using var reader = command.ExecuteReader();
    var rows = new List<byte[]>();
    while (reader.Read())
    {
        rows.Add((byte[])reader.GetValue(0));
    }

    return rows;
}

// 0.3.0's decoding of a row (docs/storage.md#payload) for the layouts that need no keys: the outer pickle, then the session dict
// or the base64 pickle of Beaker 1.12.
static List<KeyValuePair<string, object?>> LegacyDecode(byte[] data)
{
    var outer = (IDictionary)LegacyPickleLoader.Load(data)!;
    var converter = new LegacyValueConverter(data[0] != 0x80 || data[1] <= 2);
    var value = outer["session"];
    if (value is string text)
    {
        var raw = Convert.FromBase64String(text);
        value = LegacyPickleLoader.Load(raw);
        converter = new LegacyValueConverter(true);
    }

    var entries = new List<KeyValuePair<string, object?>>();
    foreach (DictionaryEntry entry in (IDictionary)value!)
    {
        entries.Add(new KeyValuePair<string, object?>(converter.KeyText(entry.Key), converter.Convert(entry.Value)));
    }

    return entries;
}
