namespace BeakerHelpers.Core.Stores.Files;

/// <summary>One file in a session folder as the walk saw it (lstat: a link is reported as a link, never followed).</summary>
internal readonly record struct TreeFile(string Path, string Name, DateTime ModifiedUtc, long Length, bool IsLink);

/// <summary>
/// The two-level folder tree Beaker's util.encoded_path builds under a root: root/&lt;a&gt;/&lt;ab&gt;/&lt;name&gt;, where
/// a and ab are the first one and two characters of the name (docs/storage.md#file). The walk goes one folder at a
/// time, only into folders named that way, never through a link, and skips a folder that disappears.
/// </summary>
internal sealed class SessionFolderTree
{
    private static readonly EnumerationOptions Listing = new()
    {
        AttributesToSkip = 0,
        IgnoreInaccessible = false,
        RecurseSubdirectories = false,
        ReturnSpecialDirectories = false,
        MatchType = MatchType.Simple,
    };

    private readonly Action<StoreProblem>? _problems;

    public SessionFolderTree(string root, Action<StoreProblem>? problems)
    {
        Root = root;
        _problems = problems;
    }

    public string Root { get; }

    /// <summary>The leaf folders (root/a/ab), in ordinal order of their names.</summary>
    public IEnumerable<string> LeafFolders(CancellationToken cancellationToken)
    {
        foreach (var top in Subfolders(Root, name => name.Length == 1))
        {
            var topName = System.IO.Path.GetFileName(top);
            foreach (var leaf in Subfolders(top, name => name.Length is 1 or 2 && name.StartsWith(topName, StringComparison.OrdinalIgnoreCase)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return leaf;
            }
        }
    }

    /// <summary>The files in one leaf folder, in ordinal order; null when the folder has gone meanwhile.</summary>
    public List<TreeFile>? FilesIn(string folder)
    {
        try
        {
            var files = new System.IO.Enumeration.FileSystemEnumerable<TreeFile>(folder,
                (ref System.IO.Enumeration.FileSystemEntry entry) => new TreeFile(
                    entry.ToFullPath(), entry.FileName.ToString(), entry.LastWriteTimeUtc.UtcDateTime, entry.Length,
                    (entry.Attributes & FileAttributes.ReparsePoint) != 0),
                Listing)
            {
                ShouldIncludePredicate = (ref System.IO.Enumeration.FileSystemEntry entry) =>
                    !entry.IsDirectory || (entry.Attributes & FileAttributes.ReparsePoint) != 0,
            }.ToList();
            files.Sort((x, y) => string.CompareOrdinal(x.Name, y.Name));
            return files;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (UnauthorizedAccessException ex)
        {
            Report("FolderUnreadable", $"The folder '{folder}' cannot be listed ({ex.Message}); its sessions were skipped. Run as the app's user or as root.", folder, isError: true);
            return null;
        }
    }

    /// <summary>
    /// Removes a leaf folder and then its parent when they are empty (never recursively, never the root).
    /// A folder is only removed when <paramref name="emptiedHere"/> or when <paramref name="isOld"/> says its last change is old:
    /// Beaker creates a new session's folder when the request starts and writes the file when it ends.
    /// </summary>
    public int RemoveIfEmpty(string leaf, bool emptiedHere, Func<DateTime, bool> isOld)
    {
        var removed = 0;
        var folder = leaf;
        for (var level = 0; level < 2; level++)
        {
            if (!emptiedHere && !isOld(Directory.GetLastWriteTimeUtc(folder)))
            {
                break;
            }

            try
            {
                if (Directory.EnumerateFileSystemEntries(folder).Any())
                {
                    break;
                }

                Directory.Delete(folder, recursive: false);
                removed++;
            }
            catch (DirectoryNotFoundException)
            {
                // Gone already.
            }
            catch (IOException)
            {
                // Beaker wrote into it meanwhile.
                break;
            }
            catch (UnauthorizedAccessException ex)
            {
                Report("FolderNotRemoved", $"The empty folder '{folder}' cannot be removed ({ex.Message}).", folder, isError: true);
                break;
            }

            folder = System.IO.Path.GetDirectoryName(folder)!;
        }

        return removed;
    }

    private IEnumerable<string> Subfolders(string parent, Func<string, bool> named)
    {
        List<(string Path, string Name, bool IsLink)> entries;
        try
        {
            entries = new System.IO.Enumeration.FileSystemEnumerable<(string, string, bool)>(parent,
                (ref System.IO.Enumeration.FileSystemEntry entry) => (entry.ToFullPath(), entry.FileName.ToString(), (entry.Attributes & FileAttributes.ReparsePoint) != 0),
                Listing)
            {
                ShouldIncludePredicate = (ref System.IO.Enumeration.FileSystemEntry entry) => entry.IsDirectory,
            }.ToList();
        }
        catch (DirectoryNotFoundException)
        {
            yield break;
        }
        catch (UnauthorizedAccessException ex)
        {
            Report("FolderUnreadable", $"The folder '{parent}' cannot be listed ({ex.Message}); its sessions were skipped. Run as the app's user or as root.", parent, isError: true);
            yield break;
        }

        entries.Sort((x, y) => string.CompareOrdinal(x.Name, y.Name));
        foreach (var (path, name, isLink) in entries)
        {
            if (!named(name))
            {
                continue;
            }

            if (isLink)
            {
                Report("LinkNotFollowed", $"'{path}' is a link; BeakerHelpers never follows links out of the session folders, so it was left alone.", path, isError: false);
                continue;
            }

            yield return path;
        }
    }

    private void Report(string errorId, string message, string path, bool isError) =>
        _problems?.Invoke(new StoreProblem(errorId, message, path, isError));
}
