using System.Diagnostics;
using BeakerHelpers.Core;
using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Payload;
using BeakerHelpers.Core.Stores;
using BeakerHelpers.Core.Stores.Sql;

// Mutation fuzzing of the payload decoder (build.ps1 -Task Fuzz): real Beaker payloads from the committed
// fixture stores, mutated with a fixed seed. A case passes when the decoder returns a session or throws a
// PayloadException (a per-session error) within a second; anything else is reported. Writes the cases that
// failed, and the slowest ones, to the output folder as a corpus for the normal test run.
var options = args.Select((a, i) => (a, i)).Where(p => p.a.StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(p => p.a, p => p.i + 1 < args.Length ? args[p.i + 1] : string.Empty);
var stores = options.GetValueOrDefault("--stores") ?? throw new ArgumentException("--stores DIR is required");
var output = options.GetValueOrDefault("--out") ?? throw new ArgumentException("--out DIR is required");
var cases = int.Parse(options.GetValueOrDefault("--cases") ?? "100000", System.Globalization.CultureInfo.InvariantCulture);
var seed = int.Parse(options.GetValueOrDefault("--seed") ?? "20261201", System.Globalization.CultureInfo.InvariantCulture);
Directory.CreateDirectory(output);

var seeds = new List<(byte[] Data, bool Encrypted)>();
foreach (var (db, tables) in new[] { ("sessions.db", new[] { "beaker_cache" }), ("custom.db", new[] { "web_sessions", "sqla_sessions", "crypto_sessions" }), ("protocols.db", Enumerable.Range(0, 6).Select(p => "beaker_p" + p).ToArray()) })
{
    foreach (var table in tables)
    {
        using var store = SqliteDialect.Open(Path.Combine(stores, db), table, null);
        seeds.AddRange(store.ReadSessions(null, CancellationToken.None).Select(r => (r.Data, table == "crypto_sessions")));
    }
}

// The value stores: application objects and standard-library values at protocols 2, 4 and 5 (make_value_stores.py).
var values = Path.Combine(stores, "..", "values");
using (var store = SqliteDialect.Open(Path.Combine(values, "values.db"), "beaker_cache", null))
{
    seeds.AddRange(store.ReadSessions(null, CancellationToken.None).Select(r => (r.Data, true)));
}

seeds.AddRange(Directory.EnumerateFiles(Path.Combine(values, "files"), "*.cache", SearchOption.AllDirectories).Select(f => (File.ReadAllBytes(f), false)));

var config = PasteDeployLoader.Load(Path.Combine(stores, "crypto.ini"), null);
var keys = SessionSettings.FromConfig(config, SessionSettings.DefaultPrefix, stores).Keys();
var plain = new SessionPayloadDecoder();
var withKeys = new SessionPayloadDecoder(keys: keys);
var random = new Random(seed);
var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
var failures = new List<(int Case, string What, byte[] Data)>();
var slowest = new List<(double Ms, int Case, byte[] Data)>();
var total = Stopwatch.StartNew();
var progress = Path.Combine(output, "current-case.txt");

for (var i = 0; i < cases; i++)
{
    var (data, encrypted) = seeds[random.Next(seeds.Count)];
    var (mutated, how) = Mutate(data, random, seeds);
    if (i % 1000 == 0)
    {
        // If the process dies (a stack overflow cannot be caught), this names the case to replay.
        File.WriteAllText(progress, $"{i} {how}");
    }

    var clock = Stopwatch.StartNew();
    string outcome;
    try
    {
        var decoded = (encrypted ? withKeys : plain).Decode(mutated);

        // What the listing shows must not fail either: every value's display.
        foreach (var pair in decoded.Values)
        {
            _ = BeakerHelpers.Core.Payload.Values.PythonText.Display(pair.Value);
        }

        outcome = "decoded";
    }
    catch (PayloadException ex)
    {
        outcome = "error " + ex.ErrorId;
    }
    catch (Exception ex)
    {
        outcome = "UNEXPECTED " + ex.GetType().FullName;
        failures.Add((i, $"{outcome}: {ex.Message} ({how})", mutated));
    }

    var ms = clock.Elapsed.TotalMilliseconds;
    if (ms > 1000)
    {
        outcome = "HANG";
        failures.Add((i, $"took {ms:0} ms ({how})", mutated));
    }

    outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
    slowest.Add((ms, i, mutated));
    if (slowest.Count > 64)
    {
        slowest = slowest.OrderByDescending(s => s.Ms).Take(16).ToList();
    }
}

File.Delete(progress);
foreach (var (number, what, bytes) in failures.Take(50))
{
    File.WriteAllBytes(Path.Combine(output, $"failure-{number}.bin"), bytes);
}

foreach (var (ms, number, bytes) in slowest.OrderByDescending(s => s.Ms).Take(8))
{
    File.WriteAllBytes(Path.Combine(output, $"slow-{number}.bin"), bytes);
}

Console.WriteLine($"Fuzz: {cases} cases from {seeds.Count} real payloads, seed {seed}, {total.Elapsed.TotalSeconds:0.0} s");
foreach (var (outcome, count) in outcomes.OrderByDescending(o => o.Value))
{
    Console.WriteLine($"  {count,8}  {outcome}");
}

var slowestMs = slowest.Count == 0 ? 0 : slowest.Max(s => s.Ms);
Console.WriteLine($"Crashes 0, hangs {outcomes.GetValueOrDefault("HANG")}, unexpected exceptions {failures.Count - outcomes.GetValueOrDefault("HANG")}; slowest case {slowestMs:0.0} ms");
foreach (var (number, what, _) in failures.Take(20))
{
    Console.WriteLine($"  case {number}: {what}");
}

return failures.Count == 0 ? 0 : 1;

static (byte[] Data, string How) Mutate(byte[] data, Random random, List<(byte[] Data, bool Encrypted)> seeds)
{
    var bytes = (byte[])data.Clone();
    switch (random.Next(8))
    {
        case 7:
            // An opcode the payload did not have where it had another, with a one-byte argument: calls, memo
            // references, BUILD and item opcodes in places no writer puts them.
            var opcodes = new byte[] { (byte)'R', (byte)'b', (byte)'s', (byte)'u', (byte)'a', (byte)'e', (byte)'h', (byte)'q', (byte)'2', (byte)'0', (byte)'1', (byte)'(', 0x81, 0x92, 0x93, 0x94, 0x85, 0x86, 0x87, (byte)'t', (byte)'l', (byte)'d', 0x90, 0x91 };
            var place = random.Next(bytes.Length + 1);
            var inserted = new[] { opcodes[random.Next(opcodes.Length)], (byte)random.Next(8) };
            return (bytes[..place].Concat(inserted).Concat(bytes[place..]).ToArray(), $"opcode 0x{inserted[0]:x2} inserted at {place}");
        case 0:
            var flips = random.Next(1, 9);
            for (var f = 0; f < flips && bytes.Length > 0; f++)
            {
                bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
            }

            return (bytes, $"{flips} bit flip(s)");
        case 1:
            return (bytes[..random.Next(bytes.Length)], "truncated");
        case 2:
            var other = seeds[random.Next(seeds.Count)].Data;
            var cut = random.Next(bytes.Length);
            var from = random.Next(other.Length);
            return (bytes[..cut].Concat(other[from..]).ToArray(), "spliced");
        case 3:
            // A length or count field set to an extreme: overwrite 1, 4 or 8 bytes after a random position.
            var width = new[] { 1, 4, 8 }[random.Next(3)];
            var at = random.Next(Math.Max(1, bytes.Length - width));
            var extreme = new[] { 0xFF, 0x7F, 0x80, 0x00 }[random.Next(4)];
            for (var b = 0; b < width && at + b < bytes.Length; b++)
            {
                bytes[at + b] = (byte)(b == width - 1 && extreme == 0x7F ? 0x7F : extreme == 0x7F ? 0xFF : extreme);
            }

            return (bytes, $"{width}-byte field at {at} set to extreme");
        case 4:
            var depth = random.Next(1, 200_000);
            var nested = "(dp0\nS'session'\np1\n(dp2\nS'x'\np3\n" + new string('(', depth) + new string('l', random.Next(2) == 0 ? depth : depth / 2) + "ss.";
            return (System.Text.Encoding.ASCII.GetBytes(nested), $"nested {depth} deep");
        case 5:
            var insert = random.Next(bytes.Length + 1);
            var junk = new byte[random.Next(1, 16)];
            random.NextBytes(junk);
            return (bytes[..insert].Concat(junk).Concat(bytes[insert..]).ToArray(), "random bytes inserted");
        default:
            var count = random.Next(1, 4);
            for (var r = 0; r < count && bytes.Length > 0; r++)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            return (bytes, $"{count} byte(s) replaced");
    }
}
