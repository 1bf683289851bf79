using System.Text;
using BeakerHelpers.Core.Sessions;
using BeakerHelpers.Core.Stores;

namespace BeakerHelpers.Core.Removal;

/// <summary>
/// What a removal will do to one store, worked out from a read-only look at it before anything is asked or removed:
/// how many sessions would go and the sentence that asks for them. <see cref="Execute"/> then removes them through a
/// store opened for writing, each batch re-checking what it removes (docs/removal.md).
/// </summary>
public sealed class RemovalPlan : IDisposable
{
    /// <summary>How many ids the action's sentence names before '...'.</summary>
    private const int IdsShown = 3;

    private readonly Func<ISessionStore, RemovalOptions, RemovalResult> _remove;
    private readonly string? _spool;

    private RemovalPlan(string store, long count, string action, string outcome, Func<ISessionStore, RemovalOptions, RemovalResult> remove, string? spool = null)
    {
        Store = store;
        Count = count;
        Action = action;
        Outcome = outcome;
        _remove = remove;
        _spool = spool;
    }

    /// <summary>The store's description, as every message names it.</summary>
    public string Store { get; }

    /// <summary>Sessions last accessed before this (the app's wall-clock time) go; null for a removal by id.</summary>
    public DateTime? Cutoff { get; private init; }

    /// <summary>How many sessions are to go.</summary>
    public long Count { get; }

    /// <summary>-Empty: the empty sessions found (all of <see cref="Count"/>); null otherwise.</summary>
    public long? Empty { get; private init; }

    /// <summary>A folder store: old lock files and the like may go even when no session does.</summary>
    public bool Leftovers { get; private init; }

    /// <summary>The sentence that asks for the removal ("Remove 5 session(s) last accessed before …").</summary>
    public string Action { get; }

    /// <summary>Which sessions the summary says were removed ("last accessed before …", "of 3 found (4 given by id)").</summary>
    public string Outcome { get; }

    /// <summary>What the look at the store found that the operator should know, whether or not the removal goes ahead.</summary>
    public IReadOnlyList<string> Warnings { get; private init; } = Array.Empty<string>();

    /// <summary>A removal by id: the ids given that the store does not hold, in the order given.</summary>
    public IReadOnlyList<string> Missing { get; private init; } = Array.Empty<string>();

    /// <summary>Whether there is anything to ask about: sessions to remove, or a folder store's leftovers.</summary>
    public bool HasWork => Count > 0 || Leftovers;

    /// <summary>Sessions last accessed before <paramref name="cutoff"/>, counted by <paramref name="store"/>.</summary>
    public static RemovalPlan ByAge(ISessionStore store, DateTime cutoff, string olderThan, CancellationToken cancellationToken)
    {
        var (count, undated) = store.CountAccessedBefore(cutoff, cancellationToken);
        var warnings = count == 0 && undated > 0
            ? new[]
            {
                // With old sessions to remove, the removal itself says this.
                $"{undated} session(s) in {store.Description} were left alone: their age is inside their payload, which could not be read " +
                "(encrypted without encrypt_key and validate_key, or corrupt).",
            }
            : Array.Empty<string>();
        var action = $"Remove {count} session(s) {olderThan}" +
            (store.CleansLeftovers ? ", with their lock files, and old unused lock files, half-written files and empty folders" : string.Empty);
        return new RemovalPlan(store.Description, count, action, olderThan,
            (store, options) => store.RemoveAccessedBefore(cutoff, options))
        {
            Cutoff = cutoff,
            Leftovers = store.CleansLeftovers,
            Warnings = warnings,
        };
    }

    /// <summary>
    /// The empty sessions last accessed before <paramref name="cutoff"/>: the store is decoded once, the ids found
    /// spooled to a temporary file (memory stays flat, and no write waits behind the read), then removed by id, each
    /// batch re-checking the age, so a session that got content meanwhile (and with it a new access time) stays.
    /// </summary>
    /// <param name="keysSource">Where the keys came from, for the error when none of the sessions decrypts.</param>
    public static RemovalPlan EmptySessions(ISessionStore store, SessionReader sessions, DateTime cutoff, string olderThan, string keysSource, CancellationToken cancellationToken)
    {
        var spool = Path.GetTempFileName();
        try
        {
            long found = 0, decoded = 0, encrypted = 0, undecryptable = 0;
            using (var writer = new StreamWriter(spool))
            {
                foreach (var result in sessions.Read(store, null, cancellationToken))
                {
                    if (result.Session is { } session)
                    {
                        decoded++;
                        if (session.Accessed < cutoff && SessionContent.IsEmpty(session))
                        {
                            // Ids are the clients' choice and may hold line breaks: one base64 line each.
                            writer.WriteLine(Convert.ToBase64String(Encoding.UTF8.GetBytes(result.Id)));
                            found++;
                        }
                    }
                    else if (result.Error?.ErrorId == "SessionEncrypted")
                    {
                        encrypted++;
                    }
                    else if (result.Error?.ErrorId == "SessionDecryptFailed")
                    {
                        undecryptable++;
                    }
                }
            }

            if (decoded == 0 && undecryptable > 0)
            {
                throw new BeakerException("EmptyUndecodable", BeakerErrorKind.InvalidArgument,
                    $"Nothing was removed from {store.Description}: none of its sessions could be decrypted with the keys from {keysSource} ({undecryptable} tried), " +
                    "so no session can be known to be empty. Check encrypt_key and validate_key against the app's.");
            }

            var warnings = encrypted + undecryptable > 0
                ? new[]
                {
                    $"{encrypted + undecryptable} encrypted session(s) in {store.Description} could not be read " +
                    (encrypted > 0 ? "without the keys (encrypt_key and validate_key in the ini file)" : "with the keys given") + "; they were left alone, whatever they hold.",
                }
                : Array.Empty<string>();
            return new RemovalPlan(store.Description, found, $"Remove {found} empty session(s) (nothing but Beaker's own keys) {olderThan}", "empty, " + olderThan,
                (store, options) => store.RemoveIds(SpooledIds(spool), options, accessedBefore: cutoff),
                spool)
            {
                Cutoff = cutoff,
                Empty = found,
                Warnings = warnings,
            };
        }
        catch
        {
            File.Delete(spool);
            throw;
        }
    }

    /// <summary>The sessions of <paramref name="ids"/> that <paramref name="store"/> holds (looked up first, so the question names only those).</summary>
    public static RemovalPlan ByIds(ISessionStore store, IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        var found = store.ReadIds(ids, cancellationToken).Select(row => row.Id).ToList();
        var shown = string.Join(", ", found.Take(IdsShown)) + (found.Count > IdsShown ? $", ... ({found.Count - IdsShown} more)" : string.Empty);
        var action = found.Count == ids.Count
            ? $"Remove {found.Count} session(s) given by id ({shown})"
            : $"Remove the {found.Count} session(s) found of {ids.Count} id(s) given{(found.Count > 0 ? $" ({shown})" : string.Empty)}";
        var outcome = found.Count == 0 ? $"of {ids.Count} given by id, none found" : $"of {found.Count} found ({ids.Count} given by id)";

        // Sessions named one by one go in fixed batches: each batch is a list of ids, not a range to search.
        var held = found.Count == ids.Count ? null : new HashSet<string>(found, StringComparer.Ordinal);
        return new RemovalPlan(store.Description, found.Count, action, outcome,
            (store, options) => store.RemoveIds(found, options))
        {
            Missing = held == null ? Array.Empty<string>() : ids.Where(id => !held.Contains(id)).ToList(),
        };
    }

    /// <summary>Removes what the plan found, through <paramref name="store"/> (opened for writing).</summary>
    public RemovalResult Execute(ISessionStore store, RemovalOptions options) => _remove(store, options);

    public void Dispose()
    {
        if (_spool != null)
        {
            File.Delete(_spool);
        }
    }

    private static IEnumerable<string> SpooledIds(string spool) =>
        File.ReadLines(spool).Select(line => Encoding.UTF8.GetString(Convert.FromBase64String(line)));
}
