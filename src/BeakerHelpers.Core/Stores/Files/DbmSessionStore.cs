using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using BeakerHelpers.Core.Payload;

namespace BeakerHelpers.Core.Stores.Files;

/// <summary>
/// Beaker's 'dbm' backend (docs/storage.md#dbm): one dbm database per session, container_dbm/&lt;a&gt;/&lt;ab&gt;/&lt;id&gt;.dbm plus the
/// files its dbm flavour adds, holding pickle(V) under the key 'session'. Only dbm.dumb files (a text index
/// '.dbm.dir' and a data file '.dbm.dat') can be read here; every flavour is removed by age.
/// </summary>
public sealed partial class DbmSessionStore : FolderSessionStore
{
    public const string Extension = ".dbm";

    /// <summary>What dbm flavours add to the name: dbm.dumb .dat/.dir/.bak, ndbm .pag/.dir or .db, Berkeley DB .db; gdbm adds nothing.</summary>
    private static readonly string[] Companions = { string.Empty, ".db", ".dat", ".dir", ".bak", ".pag" };

    /// <param name="root">dbm_dir, or data_dir/container_dbm.</param>
    /// <param name="lockRoot">lock_dir, or data_dir/container_dbm_lock; null when neither is known.</param>
    public DbmSessionStore(string root, string? lockRoot, TimeZoneInfo zone, Action<StoreProblem>? problems = null)
        : base("dbm", root, lockRoot, zone, problems)
    {
    }

    protected override string? SessionIdOf(string fileName)
    {
        foreach (var companion in Companions)
        {
            var suffix = Extension + companion;
            if (fileName.Length > suffix.Length && fileName.EndsWith(suffix, StringComparison.Ordinal))
            {
                return fileName[..^suffix.Length];
            }
        }

        return null;
    }

    protected override IEnumerable<string> FileNamesFor(string id) => Companions.Select(c => id + Extension + c);

    internal override StoredSession? Read(SessionFiles session, DateTime accessed)
    {
        var index = session.Files.FirstOrDefault(f => f.Name == session.Id + Extension + ".dir");
        var data = session.Files.FirstOrDefault(f => f.Name == session.Id + Extension + ".dat");
        if (index.Path == null || data.Path == null)
        {
            return Unreadable(session, accessed, new PayloadException(
                $"its dbm files ({string.Join(", ", session.Files.Select(f => f.Name))}) are of the {FlavourOf(session)} flavour, which BeakerHelpers cannot read (only dbm.dumb's .dir and .dat files); " +
                "Remove-BeakerSession still removes these sessions by age", "DbmFlavourNotReadable"));
        }

        var indexBytes = ReadFile(index, out var problem);
        if (indexBytes == null || problem != null)
        {
            return indexBytes == null ? null : Unreadable(session, accessed, problem!);
        }

        if (FindSessionEntry(Encoding.Latin1.GetString(indexBytes)) is not { } entry)
        {
            return Unreadable(session, accessed, new PayloadException($"the dbm index '{index.Path}' has no 'session' entry (a session Beaker created but never saved)", "SessionCorrupt"));
        }

        if (entry.Offset < 0 || entry.Size <= 0 || entry.Size > MaxSessionFileBytes || entry.Offset + entry.Size > data.Length)
        {
            return Unreadable(session, accessed, new PayloadException($"the dbm index '{index.Path}' points past the end of '{data.Name}' (a save cut short?)", "SessionCorrupt"));
        }

        try
        {
            using var stream = new FileStream(data.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Position = entry.Offset;
            var bytes = new byte[entry.Size];
            stream.ReadExactly(bytes);
            return new StoredSession(session.Id, accessed, null, bytes) { Payload = StoredPayload.SessionValue };
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Unreadable(session, accessed, new PayloadException($"'{data.Path}' cannot be read ({ex.Message}); run as the app's user or as root", "SessionFileUnreadable", ex));
        }
    }

    /// <summary>
    /// Finds the 'session' key in a dbm.dumb index: one line per key, "repr(key), (offset, size)" (Python 2 and 3 alike).
    /// </summary>
    internal static (long Offset, long Size)? FindSessionEntry(string index)
    {
        (long, long)? found = null;
        foreach (var line in index.Split('\n'))
        {
            var match = IndexLine().Match(line.TrimEnd('\r'));
            if (match.Success
                && long.TryParse(match.Groups["offset"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
                && long.TryParse(match.Groups["size"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                // dbm.dumb appends a new line when a key is stored again; the last one counts.
                found = (offset, size);
            }
        }

        return found;
    }

    private static StoredSession Unreadable(SessionFiles session, DateTime accessed, PayloadException problem) =>
        new(session.Id, accessed, null, Array.Empty<byte>()) { Problem = problem };

    private static string FlavourOf(SessionFiles session)
    {
        bool Has(string companion) => session.Files.Any(f => f.Name == session.Id + Extension + companion);
        if (Has(".db"))
        {
            return "Berkeley DB / ndbm (.db)";
        }

        if (Has(".pag"))
        {
            return "ndbm (.pag and .dir)";
        }

        return Has(string.Empty) ? "GNU dbm (dbm.gnu)" : "unknown";
    }

    [GeneratedRegex(@"^(?:b?'session'|b?""session""), \((?<offset>\d+)L?, (?<size>\d+)L?\)$", RegexOptions.CultureInvariant)]
    private static partial Regex IndexLine();
}
