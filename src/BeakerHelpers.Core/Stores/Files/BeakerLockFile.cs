using System.Security.Cryptography;
using System.Text;

namespace BeakerHelpers.Core.Stores.Files;

/// <summary>
/// Beaker's per-session lock file (docs/storage.md#locks): lock_dir/&lt;h[0]&gt;/&lt;h[0:2]&gt;/&lt;h&gt;.lock with h = sha1(id) in hex. Beaker
/// holds flock on it (shared to load, exclusive to save) and never deletes it. Windows has no lock files.
/// </summary>
internal static class BeakerLockFile
{
    public const string Extension = ".lock";

    public static string PathFor(string lockRoot, string sessionId)
    {
        var hash = Convert.ToHexString(SHA1.HashData(Encoding.UTF8.GetBytes(sessionId))).ToLowerInvariant();
        return Path.Combine(lockRoot, hash[..1], hash[..2], hash + Extension);
    }

    /// <summary>A lock file name as Beaker makes them: 40 lowercase hex digits and .lock.</summary>
    public static bool IsLockName(string name) =>
        name.Length == 40 + Extension.Length && name.EndsWith(Extension, StringComparison.Ordinal)
        && name.AsSpan(0, 40).IndexOfAnyExcept("0123456789abcdef") < 0;

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
