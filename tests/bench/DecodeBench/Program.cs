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
if (options.ContainsKey("--loop"))
{
    var firstChance = new Dictionary<string, int>();
    AppDomain.CurrentDomain.FirstChanceException += (_, e) => { var k = e.Exception.GetType().Name + ": " + e.Exception.Message[..Math.Min(80, e.Exception.Message.Length)] + " @ " + e.Exception.StackTrace?.Split('\n').FirstOrDefault(); lock (firstChance) { firstChance[k] = firstChance.GetValueOrDefault(k) + 1; } };
    var realistic = sets[int.Parse(options.GetValueOrDefault("--set") ?? "2", System.Globalization.CultureInfo.InvariantCulture)].Payloads.Where(p => Decodes(() => decoder.Decode(p))).ToList();
    for (var round = 0; round < 10; round++)
    {
        var a0 = GC.GetAllocatedBytesForCurrentThread();
        var c0 = Stopwatch.StartNew();
        foreach (var p in realistic) { BeakerHelpers.Core.Payload.Pickle.PickleReader.Read(p); }
        var readUs = c0.Elapsed.TotalMilliseconds * 1000 / realistic.Count;
        var a1 = GC.GetAllocatedBytesForCurrentThread();
        c0.Restart();
        foreach (var p in realistic) { var r = BeakerHelpers.Core.Payload.Pickle.PickleReader.Read(p); new BeakerHelpers.Core.Payload.Pickle.PythonValueMapper(r.Shared).Map(r.Value); }
        var mapUs = c0.Elapsed.TotalMilliseconds * 1000 / realistic.Count;
        var a2 = GC.GetAllocatedBytesForCurrentThread();
        c0.Restart();
        foreach (var p in realistic) { decoder.Decode(p); }
        var decUs = c0.Elapsed.TotalMilliseconds * 1000 / realistic.Count;
        var a3 = GC.GetAllocatedBytesForCurrentThread();
        c0.Restart();
        foreach (var p in realistic) { try { LegacyDecode(p); } catch (Exception) { } }
        var oldUs = c0.Elapsed.TotalMilliseconds * 1000 / realistic.Count;
        var a4 = GC.GetAllocatedBytesForCurrentThread();
        Console.WriteLine($"read {readUs:0.00} µs {(a1 - a0) / realistic.Count} B; read+map {mapUs:0.00} µs {(a2 - a1) / realistic.Count} B; decode {decUs:0.00} µs {(a3 - a2) / realistic.Count} B; old {oldUs:0.00} µs {(a4 - a3) / realistic.Count} B; gen0 {GC.CollectionCount(0)} gen2 {GC.CollectionCount(2)}");
    }

    foreach (var (label, decode) in new (string, Action<byte[]>)[] { ("read", p => BeakerHelpers.Core.Payload.Pickle.PickleReader.Read(p)), ("new", p => decoder.Decode(p)), ("old", p => { try { LegacyDecode(p); } catch (Exception) { } }), ("new", p => decoder.Decode(p)), ("old", p => { try { LegacyDecode(p); } catch (Exception) { } }) })
    {
        var steady = Stopwatch.StartNew();
        long n = 0;
        while (steady.Elapsed.TotalSeconds < 4)
        {
            foreach (var p in realistic) { decode(p); }
            n += realistic.Count;
        }

        Console.WriteLine($"steady {label}: {steady.Elapsed.TotalMilliseconds * 1000 / n:0.00} µs");
        foreach (var kv in firstChance.OrderByDescending(k => k.Value).Take(5)) { Console.WriteLine($"   {kv.Value} {kv.Key}"); }
        firstChance.Clear();
    }

    var until = Stopwatch.StartNew();
    long decoded = 0;
    while (until.Elapsed.TotalSeconds < (options["--loop"] == "0" ? 0 : 12)) { foreach (var p in realistic) { decoder.Decode(p); decoded++; } }
    Console.WriteLine($"loop new: {until.Elapsed.TotalMilliseconds * 1000 / Math.Max(1, decoded):0.00} µs");
    return 0;
}

if (options.ContainsKey("--profile"))
{
    foreach (var (name, payloads) in sets)
    {
        var ok = payloads.Where(p => Decodes(() => decoder.Decode(p))).ToList();
        for (var round = 0; round < 3; round++)
        {
            var c1 = Stopwatch.StartNew();
            var results = new List<BeakerHelpers.Core.Payload.Pickle.PickleResult>();
            for (var k = 0; k < 5; k++) { results.Clear(); foreach (var p in ok) { try { results.Add(BeakerHelpers.Core.Payload.Pickle.PickleReader.Read(p)); } catch { } } }
            var read = c1.Elapsed.TotalMilliseconds * 1000 / ok.Count / 5;
            var c2 = Stopwatch.StartNew();
            for (var k = 0; k < 5; k++) { foreach (var r in results) { var m = new BeakerHelpers.Core.Payload.Pickle.PythonValueMapper(r.Shared); m.Map(r.Value); } }
            var map = c2.Elapsed.TotalMilliseconds * 1000 / ok.Count / 5;
            var c3 = Stopwatch.StartNew();
            for (var k = 0; k < 5; k++) { foreach (var p in ok) { decoder.Decode(p); } }
            var all = c3.Elapsed.TotalMilliseconds * 1000 / ok.Count / 5;
            Console.WriteLine($"{name}: read {read:0.00} µs, map outer {map:0.00} µs, decode {all:0.00} µs");
        }
    }
    return 0;
}

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

// 0.3.0's decoding of a row (spec §3.7) for the layouts that need no keys: the outer pickle, then the session dict
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
