namespace BeakerHelpers.Core.Config;

/// <summary>
/// The settings one paste.deploy application receives: <see cref="Global"/> (global_conf: [DEFAULT],
/// here, __file__ and 'set' overrides) and <see cref="Local"/> (local_conf: the app section's own keys).
/// </summary>
public sealed class AppConfig
{
    public AppConfig(string filePath, string section, IReadOnlyDictionary<string, string> global, IReadOnlyDictionary<string, string> local)
    {
        FilePath = filePath;
        Section = section;
        Global = global;
        Local = local;
    }

    /// <summary>The ini file the app section was read from.</summary>
    public string FilePath { get; }

    /// <summary>The section the settings came from, such as 'app:main'.</summary>
    public string Section { get; }

    public IReadOnlyDictionary<string, string> Global { get; }

    public IReadOnlyDictionary<string, string> Local { get; }

    /// <summary>
    /// A setting as SessionMiddleware sees it in Pylons and TurboGears (docs/storage.md#settings; README "How settings are
    /// resolved"): the app section's value, else the global one. paste.deploy already dropped app keys
    /// that [DEFAULT] also sets, so a [DEFAULT] value (or a 'set' override) wins over a plain app key.
    /// </summary>
    public bool TryGet(string key, out string value)
    {
        if (Local.TryGetValue(key, out value!))
        {
            return true;
        }

        return Global.TryGetValue(key, out value!);
    }
}
