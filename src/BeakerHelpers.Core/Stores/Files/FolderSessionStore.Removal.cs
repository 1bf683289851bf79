using BeakerHelpers.Core.Removal;

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
    public RemovalResult RemoveAccessedBefore(DateTime cutoff, int batchSize, CancellationToken cancellationToken, Action<long>? progress = null, bool adaptive = false)
    {
        var run = new Run(batchSize, progress);
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

    public RemovalResult RemoveIds(IEnumerable<string> ids, int batchSize, CancellationToken cancellationToken, Action<long>? progress = null, DateTime? accessedBefore = null, bool adaptive = false)
    {
        var run = new Run(batchSize, progress);
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
                Report("LockNotOpened", $"Session '{id}' was left alone: its lock file '{lockPath}' cannot be opened by this user, so it could not be removed safely. Run as the app's user or as root.", leaf, isError: true);
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
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Report("FileNotRemoved", $"'{path}' ({what}) cannot be removed: {ex.Message.TrimEnd('.')}. Run as the app's user or as root.", path, isError: true);
            return false;
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
