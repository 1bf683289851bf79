namespace BeakerHelpers.Core.Stores.Files;

/// <summary>
/// Beaker's 'file' backend (docs/storage.md#file): container_file/&lt;a&gt;/&lt;ab&gt;/&lt;id&gt;.cache holds the pickled namespace dict
/// {'session': V}, written to '&lt;id&gt;.cache.temp' and renamed into place (Beaker 1.9.1 and later).
/// </summary>
public sealed class FileSessionStore : FolderSessionStore
{
    public const string Extension = ".cache";
    public const string TempExtension = ".cache.temp";

    /// <param name="root">file_dir, or data_dir/container_file.</param>
    /// <param name="lockRoot">lock_dir, or data_dir/container_file_lock; null when neither is known.</param>
    public FileSessionStore(string root, string? lockRoot, TimeZoneInfo zone, Action<StoreProblem>? problems = null)
        : base("file", root, lockRoot, zone, problems)
    {
    }

    protected override string? SessionIdOf(string fileName) =>
        fileName.Length > Extension.Length && fileName.EndsWith(Extension, StringComparison.Ordinal) ? fileName[..^Extension.Length] : null;

    protected override IEnumerable<string> FileNamesFor(string id) => new[] { id + Extension };

    protected override bool OneFilePerSession => true;

    protected override bool IsTempLeftover(string fileName) => fileName.EndsWith(TempExtension, StringComparison.Ordinal);

    internal override StoredSession? Read(SessionFiles session, DateTime accessed)
    {
        var data = ReadFile(session.Files[0], out var problem);
        return data == null ? null : new StoredSession(session.Id, accessed, null, data) { Problem = problem };
    }
}
