using System.Security.Cryptography;
using System.Text;

namespace BeakerHelpers.Core.Stores.Files;

/// <summary>
/// Beaker's tree of per-session lock files (docs/storage.md#locks): lock_dir/&lt;h[0]&gt;/&lt;h[0:2]&gt;/&lt;h&gt;.lock with
/// h = sha1(id) in hex. Beaker holds flock on a session's lock (shared to load, exclusive to save) and never deletes
/// it. This type owns the paths, the holding, and the sweep of old unused locks. Windows has no lock files.
/// </summary>
internal sealed class LockTree
{
    public const string Extension = ".lock";

    /// <summary>The tree as walked for the sweep and the count; null when the folder did not exist at open.</summary>
    private readonly SessionFolderTree? _tree;

    public LockTree(string root, Action<StoreProblem>? problems)
    {
        Root = root;
        _tree = Directory.Exists(root) ? new SessionFolderTree(root, problems) : null;
    }

    /// <summary>lock_dir, or data_dir/container_*_lock.</summary>
    public string Root { get; }

    private static readonly System.Buffers.SearchValues<char> LowercaseHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    public string PathFor(string sessionId)
    {
#pragma warning disable CA5350 // Beaker names a session's lock file by the SHA-1 of its id (docs/storage.md#file): not a security use.
        var hash = Convert.ToHexString(SHA1.HashData(Encoding.UTF8.GetBytes(sessionId))).ToLowerInvariant();
#pragma warning restore CA5350
        return Path.Combine(Root, hash[..1], hash[..2], hash + Extension);
    }

    /// <summary>A lock file name as Beaker makes them: 40 lowercase hex digits and .lock.</summary>
    public static bool IsLockName(string name) =>
        name.Length == 40 + Extension.Length && name.EndsWith(Extension, StringComparison.Ordinal)
        && name.AsSpan(0, 40).IndexOfAnyExcept(LowercaseHex) < 0;

    /// <summary>
    /// Takes the lock as Beaker's writer does (flock LOCK_EX, here without waiting: .NET opens with FileShare.None that
    /// way on Unix). <paramref name="held"/> is the open lock file while <see cref="LockState.Held"/>.
    /// </summary>
    public static LockState TryHold(string path, out FileStream? held)
    {
        held = null;
        if (OperatingSystem.IsWindows())
        {
            return LockState.Absent;
        }

        try
        {
            if (new FileInfo(path).LinkTarget != null)
            {
                // Never open (or remove) what a link points at.
                return LockState.Link;
            }

            held = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None, bufferSize: 1, FileOptions.None);
            return LockState.Held;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return LockState.Absent;
        }
        catch (UnauthorizedAccessException)
        {
            return LockState.Denied;
        }
        catch (IOException)
        {
            return LockState.Busy;
        }
    }

    /// <summary>How many files the tree holds (Measure-BeakerSession's lock file count).</summary>
    public long CountFiles(CancellationToken cancellationToken)
    {
        long count = 0;
        foreach (var leaf in _tree?.LeafFolders(cancellationToken) ?? Enumerable.Empty<string>())
        {
            count += _tree!.FilesIn(leaf)?.Count ?? 0;
        }

        return count;
    }

    /// <summary>
    /// Removes lock files older than the cutoff that no Beaker process holds (each taken first, as Beaker's writer
    /// would), and the folders they leave empty, or that <paramref name="emptied"/> names: the folders whose lock
    /// files went with their sessions.
    /// </summary>
    /// <param name="delete">Deletes one file, saying why it could not: the store's own reporting.</param>
    public (long LockFiles, long Folders) Sweep(Func<DateTime, bool> isOld, IReadOnlySet<string> emptied, Func<string, string, bool> delete, CancellationToken cancellationToken)
    {
        long lockFiles = 0, folders = 0;
        foreach (var leaf in _tree?.LeafFolders(cancellationToken) ?? Enumerable.Empty<string>())
        {
            var files = _tree!.FilesIn(leaf);
            if (files == null)
            {
                continue;
            }

            var leafName = Path.GetFileName(leaf);
            var removedHere = false;
            foreach (var file in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (file.IsLink || !IsLockName(file.Name) || !file.Name.StartsWith(leafName, StringComparison.OrdinalIgnoreCase) || !isOld(file.ModifiedUtc))
                {
                    continue;
                }

                if (TryHold(file.Path, out var held) != LockState.Held)
                {
                    continue;
                }

                using (held)
                {
                    if (delete(file.Path, "an old lock file"))
                    {
                        lockFiles++;
                        removedHere = true;
                    }
                }
            }

            folders += _tree.RemoveIfEmpty(leaf, removedHere || emptied.Contains(leaf), isOld);
        }

        return (lockFiles, folders);
    }
}

internal enum LockState
{
    /// <summary>This process holds the lock: no Beaker process can load or save the session meanwhile.</summary>
    Held,

    /// <summary>No lock file (never made, removed, or Windows).</summary>
    Absent,

    /// <summary>A Beaker process holds it: the session is being loaded or saved right now.</summary>
    Busy,

    /// <summary>This user may not open it.</summary>
    Denied,

    /// <summary>It is a link, which is never followed.</summary>
    Link,
}
