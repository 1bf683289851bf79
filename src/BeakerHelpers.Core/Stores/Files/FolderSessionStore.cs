using BeakerHelpers.Core.Payload;

namespace BeakerHelpers.Core.Stores.Files;

/// <summary>The files of one session in its leaf folder, as the walk saw them.</summary>
internal sealed record SessionFiles(string Id, string Folder, IReadOnlyList<TreeFile> Files)
{
    public DateTime ModifiedUtc => Files.Max(f => f.ModifiedUtc);

    public bool HasLink => Files.Any(f => f.IsLink);
}

/// <summary>
/// What the file and dbm backends share (docs/storage.md#file, docs/storage.md#dbm): one session per file (or file group) in Beaker's
/// two-level folder tree, last saved at the file's modification time, and a lock file per session that Beaker never
/// deletes. Walked one folder at a time; times are turned into the app server's wall clock like the SQL rows' times.
/// </summary>
public abstract partial class FolderSessionStore : ISessionStore
{
    /// <summary>A session file larger than this is reported, not read (a session is a few KiB).</summary>
    public const long MaxSessionFileBytes = 64L * 1024 * 1024;

    private static readonly char[] PathCharacters = { '/', '\\', '\0' };

    private readonly SessionFolderTree _sessions;
    private readonly LockTree? _locks;
    private readonly TimeZoneInfo _zone;
    private readonly Action<StoreProblem>? _problems;

    protected FolderSessionStore(string kind, string root, string? lockRoot, TimeZoneInfo zone, Action<StoreProblem>? problems)
    {
        if (!Directory.Exists(root))
        {
            throw new BeakerException("StoreNotFound", BeakerErrorKind.NotFound,
                $"The {kind} session folder '{root}' does not exist. Beaker makes it when it first stores a session there; check data_dir ({kind}_dir) and that the app really uses type = {kind}.");
        }

        Root = root;
        Description = $"{kind} '{root}'";
        _zone = zone;
        _problems = problems;
        _sessions = new SessionFolderTree(root, problems);
        _locks = lockRoot == null ? null : new LockTree(lockRoot, problems);
    }

    public string Description { get; }

    public bool CleansLeftovers => true;

    /// <summary>The folder the session tree starts at (container_file, container_dbm, or file_dir/dbm_dir).</summary>
    public string Root { get; }

    /// <summary>The id a file of this backend belongs to, or null for a file that is not a session's.</summary>
    protected abstract string? SessionIdOf(string fileName);

    /// <summary>The names a session's files can have (docs/storage.md#file, docs/storage.md#dbm).</summary>
    protected abstract IEnumerable<string> FileNamesFor(string id);

    /// <summary>A half-written file Beaker leaves behind when a save dies (removed when old).</summary>
    protected virtual bool IsTempLeftover(string fileName) => false;

    /// <summary>Reads one session's bytes; null when its files have gone meanwhile.</summary>
    internal abstract StoredSession? Read(SessionFiles session, DateTime accessed);

    /// <summary>
    /// Whether a session is one file that <see cref="Read"/> reads alone (the file backend), so that a plain one the
    /// walk saw is read without being looked at again.
    /// </summary>
    protected virtual bool OneFilePerSession => false;

    /// <summary>
    /// Oldest first, as the SQL stores list: one walk notes each session's file time, folder and id (32 bytes a
    /// session), the notes are sorted, then each session is read (docs/views.md#order).
    /// </summary>
    public IEnumerable<StoredSession> ReadSessions(DateTime? accessedSince, CancellationToken cancellationToken)
    {
        var leaves = new List<string>();
        var otherIds = new List<string>();
        var notes = new List<SessionNote>();
        foreach (var leaf in _sessions.LeafFolders(cancellationToken))
        {
            var index = -1;
            foreach (var session in SessionsIn(leaf))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (accessedSince is { } since && Wall(session.ModifiedUtc) < since)
                {
                    continue;
                }

                if (index < 0)
                {
                    index = leaves.Count;
                    leaves.Add(leaf);
                }

                var plain = OneFilePerSession && session.Files is [{ IsLink: false, Length: > 0 and <= MaxSessionFileBytes }];
                notes.Add(SessionNote.Of(session.Id, session.ModifiedUtc.Ticks, index, plain, otherIds));
            }
        }

        notes.Sort(SessionNote.Compare);
        foreach (var note in notes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var id = note.Id(otherIds);
            var leaf = leaves[note.Leaf];
            var session = note.Plain ? PlainSession(leaf, id, note.ModifiedTicks) : SessionFilesOf(leaf, id);
            if (session != null && ReadOne(session) is { } stored)
            {
                yield return stored;
            }
        }
    }

    /// <summary>
    /// The one plain file of a session as the walk saw it. Its size is not known here: <see cref="ReadFile"/> checks the
    /// size of the file it opens.
    /// </summary>
    private SessionFiles PlainSession(string leaf, string id, long modifiedTicks)
    {
        var name = FileNamesFor(id).First();
        return new SessionFiles(id, leaf, new[] { new TreeFile(Path.Combine(leaf, name), name, new DateTime(modifiedTicks, DateTimeKind.Utc), UnknownLength, false) });
    }

    /// <summary>One session's bytes, or its problem (a link); null when its files have gone meanwhile.</summary>
    private StoredSession? ReadOne(SessionFiles session)
    {
        var accessed = Wall(session.ModifiedUtc);
        return session.HasLink
            ? new StoredSession(session.Id, accessed, null, Array.Empty<byte>()) { Problem = LinkProblem(session) }
            : Read(session, accessed);
    }

    /// <summary>The files one session has in its leaf folder now (lstat: a link is seen as a link); null when it has none.</summary>
    private SessionFiles? SessionFilesOf(string leaf, string id)
    {
        var files = new List<TreeFile>(1);
        foreach (var name in FileNamesFor(id))
        {
            var path = Path.Combine(leaf, name);
            var info = new FileInfo(path);
            var attributes = info.Attributes;
            var isLink = (attributes & FileAttributes.ReparsePoint) != 0;
            if ((int)attributes == -1 || ((attributes & FileAttributes.Directory) != 0 && !isLink))
            {
                // This name is not one of its files (or the session has gone since the walk).
                continue;
            }

            files.Add(new TreeFile(path, name, info.LastWriteTimeUtc, isLink ? 0 : info.Length, isLink));
        }

        return files.Count == 0 ? null : new SessionFiles(id, leaf, files);
    }

    public IEnumerable<StoredSession> ReadIds(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        foreach (var id in ids)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (LeafFolderOf(id) is { } leaf && SessionFilesOf(leaf, id) is { } session && ReadOne(session) is { } stored)
            {
                yield return stored;
            }
        }
    }

    private static PayloadException LinkProblem(SessionFiles session) =>
        new($"'{session.Files.First(f => f.IsLink).Path}' is a link; BeakerHelpers never follows links out of the session folders", "SessionFileIsLink");

    /// <summary>
    /// One walk of the session tree (file times and sizes, nothing read) and one of the lock tree. Every session file
    /// counts as a session; a dbm session's size is that of all its files.
    /// </summary>
    public StoreStatistics Measure(StatisticsBounds bounds, CancellationToken cancellationToken)
    {
        var tally = new StoreStatisticsTally(bounds);
        long temps = 0;
        foreach (var leaf in _sessions.LeafFolders(cancellationToken))
        {
            var files = _sessions.FilesIn(leaf);
            if (files == null)
            {
                continue;
            }

            temps += files.Count(f => IsTempLeftover(f.Name));
            foreach (var session in Group(leaf, files))
            {
                cancellationToken.ThrowIfCancellationRequested();
                tally.Add(Wall(session.ModifiedUtc), session.Files.Sum(f => f.Length), isSession: true);
            }
        }

        return tally.Result(Description) with
        {
            LockFiles = _locks?.CountFiles(cancellationToken) ?? 0,
            TempFiles = temps,
        };
    }

    public AgeCount CountAccessedBefore(DateTime cutoff, CancellationToken cancellationToken)
    {
        long count = 0;
        foreach (var leaf in _sessions.LeafFolders(cancellationToken))
        {
            count += SessionsIn(leaf).Count(s => Wall(s.ModifiedUtc) < cutoff);
        }

        return new AgeCount(count);
    }

    public void Dispose()
    {
        GC.SuppressFinalize(this);
    }

    /// <summary>The session's folder as util.encoded_path makes it; null for an id Beaker could not have stored under that name.</summary>
    private string? LeafFolderOf(string id)
    {
        if (id.Length == 0 || id is "." or ".." || id.IndexOfAny(PathCharacters) >= 0)
        {
            return null;
        }

        return Path.Combine(Root, id[..1], id[..Math.Min(2, id.Length)]);
    }

    private IEnumerable<SessionFiles> SessionsIn(string leaf)
    {
        var files = _sessions.FilesIn(leaf);
        return files == null ? Enumerable.Empty<SessionFiles>() : Group(leaf, files);
    }

    /// <summary>Groups a folder's files by session, in id order; files whose name does not belong in this folder are not Beaker's.</summary>
    private List<SessionFiles> Group(string leaf, List<TreeFile> files)
    {
        var leafName = Path.GetFileName(leaf);
        var byId = new Dictionary<string, List<TreeFile>>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            // Ignoring case: on a case-insensitive file system (Windows, macOS) Beaker puts id 'ab…' into an existing 'A/AB'.
            if (SessionIdOf(file.Name) is not { } id || !id.StartsWith(leafName, StringComparison.OrdinalIgnoreCase) || (id.Length >= 2) != (leafName.Length == 2))
            {
                continue;
            }

            if (!byId.TryGetValue(id, out var group))
            {
                byId[id] = group = new List<TreeFile>(1);
            }

            group.Add(file);
        }

        var sessions = byId.Select(pair => new SessionFiles(pair.Key, leaf, pair.Value)).ToList();
        sessions.Sort((x, y) => string.CompareOrdinal(x.Id, y.Id));
        return sessions;
    }

    private DateTime Wall(DateTime utc) => TimeZoneInfo.ConvertTimeFromUtc(utc, _zone);

    private void Report(string errorId, string message, string path, bool isError) =>
        _problems?.Invoke(new StoreProblem(errorId, message, path, isError));

    /// <summary>The length of a file the walk saw as a plain file of a sane size, when it is not kept.</summary>
    private const long UnknownLength = -1;

    /// <summary>Reads a whole session file, or says why not; null when it has gone meanwhile.</summary>
    internal static byte[]? ReadFile(TreeFile file, out PayloadException? problem)
    {
        problem = null;
        if (file.Length == 0)
        {
            // Beaker never leaves an empty session file (it renames a complete one into place); not opening it also
            // keeps a FIFO or a device planted in the tree, which reports no size, from blocking the walk.
            problem = new PayloadException($"'{file.Path}' is empty: not a session file Beaker wrote", "SessionCorrupt");
            return Array.Empty<byte>();
        }

        if (file.Length > MaxSessionFileBytes)
        {
            problem = new PayloadException($"'{file.Path}' is {file.Length} bytes, more than the {MaxSessionFileBytes / (1024 * 1024)} MiB a session file can sensibly hold", "SessionFileTooLarge");
            return Array.Empty<byte>();
        }

        try
        {
            // The size is checked again on the open file: it may have changed since the walk saw it.
            using var stream = new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
            var length = stream.Length;
            if (length == 0 || length > MaxSessionFileBytes)
            {
                problem = length == 0
                    ? new PayloadException($"'{file.Path}' is empty: not a session file Beaker wrote", "SessionCorrupt")
                    : new PayloadException($"'{file.Path}' is {length} bytes, more than the {MaxSessionFileBytes / (1024 * 1024)} MiB a session file can sensibly hold", "SessionFileTooLarge");
                return Array.Empty<byte>();
            }

            var data = new byte[length];
            stream.ReadExactly(data);
            return data;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problem = new PayloadException($"'{file.Path}' cannot be read ({ex.Message}); run as the app's user or as root", "SessionFileUnreadable", ex);
            return Array.Empty<byte>();
        }
    }
}
