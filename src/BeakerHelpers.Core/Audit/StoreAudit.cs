using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Payload;
using BeakerHelpers.Core.Payload.Pickle;
using BeakerHelpers.Core.Sessions;
using BeakerHelpers.Core.Stores;
using BeakerHelpers.Core.Time;

namespace BeakerHelpers.Core.Audit;

/// <summary>
/// The rules that read the store (Test-BeakerConfiguration -Scan, docs/audit.md): every session is read once, in the
/// listing's order and bounds, and decoded by the reader that never runs anything; only counts and the planted
/// sessions' ids are kept.
/// </summary>
public static class StoreAudit
{
    /// <summary>
    /// Modules whose functions run commands, evaluate code, open files or sockets, or load further pickles: a payload
    /// naming anything in one of them was planted (docs/audit.md#scan). An app's own classes are data and are not listed.
    /// </summary>
    public static IReadOnlySet<string> CodeModules { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "os", "posix", "nt", "subprocess", "_posixsubprocess", "pty", "commands", "popen2", "sys", "importlib", "imp",
        "runpy", "code", "codeop", "pdb", "timeit", "ctypes", "socket", "shutil", "tempfile", "pickle", "_pickle",
        "cPickle", "marshal", "webbrowser", "multiprocessing", "asyncio", "platform", "ftplib", "smtplib", "telnetlib",
        "http.client", "urllib.request", "zipimport",
    };

    /// <summary>
    /// The callables of otherwise harmless modules that run code, open files or set attributes: builtins also holds
    /// bytearray, set, slice and getattr (how Python 3 pickles an enum member), which sessions really store, so it is
    /// listed by name.
    /// </summary>
    public static IReadOnlySet<string> CodeCallables { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "builtins.eval", "builtins.exec", "builtins.compile", "builtins.open", "builtins.__import__",
        "builtins.setattr", "builtins.delattr", "builtins.globals", "builtins.locals", "builtins.vars", "builtins.input",
        "builtins.breakpoint", "builtins.exit", "builtins.quit", "builtins.help",
        "__builtin__.eval", "__builtin__.execfile", "__builtin__.compile", "__builtin__.open", "__builtin__.file",
        "__builtin__.__import__", "__builtin__.setattr", "__builtin__.delattr", "__builtin__.globals",
        "__builtin__.locals", "__builtin__.vars", "__builtin__.input", "__builtin__.raw_input", "__builtin__.reload",
        "__builtin__.apply", "io.open", "io.FileIO", "codecs.open", "operator.methodcaller", "operator.attrgetter",
        "types.FunctionType", "types.CodeType", "types.MethodType",
    };

    /// <summary>Lock files beyond this many times the sessions, and this many more, are a build-up.</summary>
    private const int LockFilesPerSession = 2;
    private const int LockFileMargin = 1000;

    public static IEnumerable<ConfigurationFinding> Scan(ISessionStore store, SessionSettings settings, TimeZoneInfo zone, CancellationToken cancellationToken)
    {
        var reader = new SessionReader(settings.Decoder(), zone);
        var age = AgeCutoff.Resolve(null, settings, zone);
        long sessions = 0, expired = 0, unreadable = 0, plain = 0;
        DateTime? oldest = null;
        string? unreadableId = null, unreadableWhy = null;
        var named = new List<string>();
        ConfigurationFinding Finding(string rule, FindingSeverity severity, string message, string recommendation, string? sessionId = null) =>
            new(rule, severity, "(store)", message, recommendation, $"{settings.Source}: {store.Description}") { SessionId = sessionId };

        // On this thread, not read ahead: the names a pickle gives are collected on the thread that reads it.
        foreach (var row in store.ReadSessionsInAnyOrder(null, cancellationToken))
        {
            named.Clear();
            var result = PickleReader.NamingGlobals(named, () => reader.Decode(row, store.Description));
            var code = named.Where(IsCode).Distinct(StringComparer.Ordinal).ToList();
            if (code.Count > 0)
            {
                yield return Finding("PlantedCode", FindingSeverity.Error,
                    $"Session '{row.Id}' holds a pickle that calls {string.Join(", ", code)}: when the app loads this session, Beaker's pickle.loads runs it. Nothing was run here.",
                    "Remove the session (Remove-BeakerSession -Id), find out who could write to the store, and set data_serializer = json.", row.Id);
            }

            if (result.Error != null)
            {
                unreadable++;
                unreadableId ??= row.Id;
                unreadableWhy ??= result.Error.Message;
                continue;
            }

            if (result.Session is not { } session)
            {
                continue;
            }

            sessions++;
            if (session.Layout is PayloadLayout.SessionDict or PayloadLayout.Base64Pickle or PayloadLayout.Base64Json or PayloadLayout.Flat)
            {
                plain++;
            }

            if (age.Cutoff is { } cutoff && row.Accessed < cutoff)
            {
                expired++;
                oldest = oldest is { } o && o <= row.Accessed ? o : row.Accessed;
            }
        }

        if (expired > 0)
        {
            yield return Finding("ExpiredSessionsPresent", FindingSeverity.Warning,
                $"{expired} of {sessions} session(s) were last used before {age.Said}, the oldest at {oldest:yyyy-MM-dd HH:mm:ss}: Beaker no longer accepts them but never removes them, so no cleanup runs.",
                $"Run Remove-BeakerSession -ConfigPath <ini> on a schedule (it removes what is older than {settings.Prefix}.timeout).");
        }

        if (unreadable > 0)
        {
            yield return Finding("UnreadableSessions", FindingSeverity.Warning,
                $"{unreadable} session(s) cannot be read, for example '{unreadableId}': {unreadableWhy}",
                "Check the keys and the serializer against the app's; Get-BeakerSession -Id shows each one's error.", unreadableId);
        }

        if (settings.EncryptKey != null && plain > 0)
        {
            yield return Finding("EncryptionNotApplied", FindingSeverity.Error,
                $"encrypt_key is set, yet {plain} of {sessions} session(s) are stored in plain text: Beaker stores plaintext when it finds no AES library for crypto_type {settings.CryptoType ?? "default"} (or these sessions predate the keys).",
                "Install an AES library where the app runs (python3-cryptography or pycryptodome), or set crypto_type to one that is installed; then remove the plain sessions.");
        }

        if (store.CleansLeftovers)
        {
            var statistics = store.Measure(age.Bounds(), cancellationToken);
            if (statistics.LockFiles is { } locks && locks > (LockFilesPerSession * statistics.TotalRows) + LockFileMargin)
            {
                yield return Finding("LockFileBuildUp", FindingSeverity.Warning,
                    $"{locks} lock files for {statistics.TotalRows} session file(s): Beaker leaves a lock file behind for every session it ever saw, and they use up the file system's inodes (bbangert/beaker#124).",
                    "Run Remove-BeakerSession on a schedule: it removes the lock files of the sessions it removes and old unused ones.");
            }
        }
    }

    /// <summary>Whether module.name is one of <see cref="CodeCallables"/> or lies in one of <see cref="CodeModules"/> (or a submodule).</summary>
    private static bool IsCode(string qualified)
    {
        if (CodeCallables.Contains(qualified))
        {
            return true;
        }

        for (var dot = qualified.LastIndexOf('.'); dot > 0; dot = qualified.LastIndexOf('.', dot - 1))
        {
            if (CodeModules.Contains(qualified[..dot]))
            {
                return true;
            }
        }

        return false;
    }
}
