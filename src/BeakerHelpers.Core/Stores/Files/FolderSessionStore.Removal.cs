
namespace BeakerHelpers.Core.Stores.Files;

/// <summary>What became of one session a folder store's removal chose.</summary>
internal enum SessionRemoval
{
    /// <summary>Its files (and its lock file) are gone.</summary>
    Removed,

    /// <summary>A Beaker process holds its lock: it is being loaded or saved, so it is left for the next run.</summary>
    Busy,

    /// <summary>Its lock file cannot be opened by this user, so it could not be removed safely.</summary>
    LockDenied,

    /// <summary>Its lock file is a link, which is never followed.</summary>
    LockIsLink,

    /// <summary>It was saved since it was found old.</summary>
    Young,

    /// <summary>Its files had gone already.</summary>
    Gone,

    /// <summary>None of its files could be removed (each said as an error) or all were links.</summary>
    NotRemoved,
}

/// <summary>A folder store's removal: sessions under Beaker's lock, old lock files, half-written files, empty folders.</summary>
public abstract partial class FolderSessionStore
{
    public RemovalResult RemoveAccessedBefore(DateTime cutoff, RemovalOptions options)
    {
        var (batchSize, adaptive, progress, cancellationToken) = options;
        var run = new Run(batchSize, progress);
        return Removing(run, () => RemoveOld(run, cutoff, cancellationToken));
    }

    private RemovalResult RemoveOld(Run run, DateTime cutoff, CancellationToken cancellationToken)
    {
        bool IsOld(DateTime utc) => Wall(utc) < cutoff;
        foreach (var leaf in _sessions.LeafFolders(cancellationToken))
        {
            var files = _sessions.FilesIn(leaf);
            if (files == null)
            {
                continue;
            }

            var removedHere = false;
            foreach (var session in Group(leaf, files))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (session.HasLink)
                {
                    Report("LinkNotFollowed", $"Session '{session.Id}' was left alone: '{session.Files.First(f => f.IsLink).Path}' is a link, and BeakerHelpers never follows or removes links.", session.Folder, isError: false);
                    continue;
                }

                if (!IsOld(session.ModifiedUtc))
                {
                    continue;
                }

                removedHere |= run.Count(RemoveSession(session.Id, leaf, IsOld, run) == SessionRemoval.Removed);
            }

            foreach (var temp in files.Where(f => IsTempLeftover(f.Name) && !f.IsLink && IsOld(f.ModifiedUtc)))
            {
                if (DeleteFile(temp.Path, "a half-written file Beaker left behind"))
                {
                    run.TempFiles++;
                    removedHere = true;
                }
            }

            run.Folders += _sessions.RemoveIfEmpty(leaf, removedHere, IsOld);
        }

        if (_locks != null)
        {
            var (lockFiles, folders) = _locks.Sweep(IsOld, run.LockFolders, DeleteFile, cancellationToken);
            run.LockFiles += lockFiles;
            run.Folders += folders;
        }

        return run.Result();
    }

    public RemovalResult RemoveIds(IEnumerable<string> ids, RemovalOptions options, DateTime? accessedBefore = null)
    {
        var (batchSize, adaptive, progress, cancellationToken) = options;
        var run = new Run(batchSize, progress);
        return Removing(run, () => RemoveGiven(run, ids, accessedBefore, cancellationToken));
    }

    private RemovalResult RemoveGiven(Run run, IEnumerable<string> ids, DateTime? accessedBefore, CancellationToken cancellationToken)
    {
        Func<DateTime, bool>? isOld = accessedBefore is { } cutoff ? utc => Wall(utc) < cutoff : null;
        foreach (var id in ids)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (LeafFolderOf(id) is not { } leaf)
            {
                continue;
            }

            if (run.Count(RemoveSession(id, leaf, isOld, run) == SessionRemoval.Removed))
            {
                run.Folders += _sessions.RemoveIfEmpty(leaf, emptiedHere: true, _ => false);
            }
        }

        return run.Result();
    }

    /// <summary>
    /// Removes one session's files under Beaker's own lock, so that no Beaker process loads or saves it meanwhile,
    /// re-checking the age just before (a session saved since the walk stays), then the lock file itself. What became
    /// of the session is the result; <see cref="SayLeftAlone"/> tells the user about the ones left.
    /// </summary>
    private SessionRemoval RemoveSession(string id, string leaf, Func<DateTime, bool>? isOld, Run run)
    {
        var lockPath = _locks?.PathFor(id);
        FileStream? held = null;
        var state = lockPath == null ? LockState.Absent : LockTree.TryHold(lockPath, out held);
        using (held)
        {
            switch (state)
            {
                case LockState.Busy:
                    return SayLeftAlone(SessionRemoval.Busy, id, lockPath, leaf);
                case LockState.Denied:
                    return SayLeftAlone(SessionRemoval.LockDenied, id, lockPath, leaf);
                case LockState.Link:
                    return SayLeftAlone(SessionRemoval.LockIsLink, id, lockPath, leaf);
            }

            if (SessionFilesOf(leaf, id) is not { } present)
            {
                return SessionRemoval.Gone;
            }

            if (isOld != null && present.Files.Any(f => !isOld(f.ModifiedUtc)))
            {
                return SessionRemoval.Young;
            }

            var removed = false;
            foreach (var file in present.Files)
            {
                if (file.IsLink)
                {
                    Report("LinkNotFollowed", $"'{file.Path}' is a link, and BeakerHelpers never follows or removes links; the session's other files were removed.", leaf, isError: false);
                    continue;
                }

                removed |= DeleteFile(file.Path, $"session '{id}'");
            }

            if (removed && held != null && DeleteFile(lockPath!, $"the lock file of session '{id}'"))
            {
                run.LockFiles++;
                run.LockFolders.Add(Path.GetDirectoryName(lockPath!)!);
            }

            return removed ? SessionRemoval.Removed : SessionRemoval.NotRemoved;
        }
    }

    /// <summary>Says why a session was left alone (a warning, or an error when only the user can fix it).</summary>
    private SessionRemoval SayLeftAlone(SessionRemoval outcome, string id, string? lockPath, string leaf)
    {
        switch (outcome)
        {
            case SessionRemoval.Busy:
                Report("SessionInUse", $"Session '{id}' was left alone: a Beaker process is loading or saving it right now (its lock '{lockPath}' is held).", leaf, isError: false);
                break;
            case SessionRemoval.LockDenied:
                ReportDenied("LockNotOpened", $"Session '{id}' was left alone: its lock file '{lockPath}' cannot be opened by this user, so it could not be removed safely. Run as the app's user or as root.", leaf);
                break;
            case SessionRemoval.LockIsLink:
                Report("LinkNotFollowed", $"Session '{id}' was left alone: its lock file '{lockPath}' is a link, and BeakerHelpers never follows or removes links.", leaf, isError: false);
                break;
        }

        return outcome;
    }

    private bool DeleteFile(string path, string what)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception ex) when (ex is DirectoryNotFoundException)
        {
            return false;
        }
        catch (IOException ex) when (IsReadOnlyFileSystem(ex))
        {
            // Nothing on this file system can go: one error for the store, not one per file (docs/removal.md#failures).
            throw new ReadOnlyStore(path, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ReportDenied("FileNotRemoved", $"'{path}' ({what}) cannot be removed: {ex.Message.TrimEnd('.')}. Run as the app's user or as root.", path);
            return false;
        }
    }

    /// <summary>
    /// A file this user may not remove or lock: an error of its own for the first <see cref="NotRemovedSaid"/>, then
    /// counted, so that a store the user may not write is a few errors and one count, not one error per file.
    /// </summary>
    private void ReportDenied(string errorId, string message, string path)
    {
        if (++_notRemoved <= NotRemovedSaid)
        {
            Report(errorId, message + (_notRemoved == NotRemovedSaid ? " Further files that cannot be removed are counted and said once, at the end." : string.Empty), path, isError: true);
        }
    }

    /// <summary>Files a removal could not remove or lock, each said as an error up to <see cref="NotRemovedSaid"/>, then counted.</summary>
    private long _notRemoved;

    private const int NotRemovedSaid = 3;

    /// <summary>Says how many more files could not be removed than were said one by one, and starts the count anew.</summary>
    private void ReportNotRemoved()
    {
        if (_notRemoved > NotRemovedSaid)
        {
            Report("FilesNotRemoved", $"{_notRemoved - NotRemovedSaid} more file(s) in {Description} could not be removed or locked either, most likely for the same reason: " +
                "the folders are not writable for this user. Run as the app's user or as root.", Description, isError: true);
        }

        _notRemoved = 0;
    }

    /// <summary>EROFS: the file system holding the store is mounted read-only.</summary>
    private static bool IsReadOnlyFileSystem(IOException ex) =>
        ex.HResult == 30 || ex.Message.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase);

    /// <summary>A file on a read-only file system: the removal ends, with one error that says what would fix it.</summary>
    private sealed class ReadOnlyStore : Exception
    {
        public ReadOnlyStore(string path, IOException inner)
            : base(inner.Message, inner) => Path = path;

        public string Path { get; }
    }

    /// <summary>Runs a removal, turning a read-only file system into one error for the store and saying the files counted.</summary>
    private RemovalResult Removing(Run run, Func<RemovalResult> remove)
    {
        _notRemoved = 0;
        try
        {
            return remove();
        }
        catch (ReadOnlyStore ex)
        {
            throw new BeakerException("RemovalFailed", BeakerErrorKind.PermissionDenied,
                $"Removing sessions from {Description} stopped after {run.Removed} session(s) were removed: '{ex.Path}' is on a read-only file system, " +
                "so nothing in the store can be removed. Running the command again will not help until the file system is mounted read-write " +
                "(or the cleanup runs on the machine that mounts it so).", ex.InnerException);
        }
        finally
        {
            ReportNotRemoved();
        }
    }

    /// <summary>
    /// A removal's run: sessions counted into batches of <see cref="_batchSize"/> (a batch's time runs from the end of
    /// the one before, as the walk between removals is part of it), progress, and the other files it removed.
    /// </summary>
    private sealed class Run
    {
        private readonly int _batchSize;
        private readonly Action<long>? _progress;
        private readonly BatchTally _tally = new();
        private int _inBatch;

        public Run(int batchSize, Action<long>? progress)
        {
            _batchSize = Math.Max(1, batchSize);
            _progress = progress;
            _tally.Start();
        }

        public long LockFiles { get; set; }

        /// <summary>The lock folders a removed session's lock file was in (at most 256: lock names are sha1 hex).</summary>
        public HashSet<string> LockFolders { get; } = new(StringComparer.Ordinal);

        public long TempFiles { get; set; }

        public long Folders { get; set; }

        /// <summary>Sessions removed so far, in closed batches and the one under way.</summary>
        public long Removed => _tally.Removed + _inBatch;

        public bool Count(bool removed)
        {
            if (!removed)
            {
                return false;
            }

            if (++_inBatch == _batchSize)
            {
                CloseBatch();
            }

            _progress?.Invoke(_tally.Removed + _inBatch);
            return true;
        }

        public RemovalResult Result()
        {
            CloseBatch();
            return _tally.Result() with
            {
                LockFiles = LockFiles,
                TempFiles = TempFiles,
                Folders = Folders,
            };
        }

        private void CloseBatch()
        {
            if (_inBatch > 0)
            {
                _tally.Finish(_inBatch);
            }

            _inBatch = 0;
            _tally.Start();
        }
    }
}
