namespace BeakerHelpers.Core.Config;

/// <summary>
/// Finds an application's settings in a paste.deploy ini file as paste.deploy's loadwsgi does
/// (docs/storage.md#settings): section lookup by prefix groups, [DEFAULT] and 'set'/'get', 'use = config:' includes,
/// pipelines (the last name is the app) and filter-apps ('next').
/// </summary>
public static class PasteDeployLoader
{
    private static readonly string[][] AppPrefixGroups =
    {
        new[] { "app", "application" },
        new[] { "composite", "composit" },
        new[] { "pipeline" },
        new[] { "filter-app" },
    };

    private const int MaxIncludeDepth = 20;

    /// <summary>Splits 'file.ini#name' into the path and the app name (null when there is no '#').</summary>
    public static (string Path, string? Name) SplitConfigUri(string value)
    {
        var hash = value.LastIndexOf('#');
        if (hash < 0)
        {
            return (value, null);
        }

        var name = value.Substring(hash + 1).Trim();
        return (value.Substring(0, hash), name.Length == 0 ? null : name);
    }

    /// <summary>
    /// The names 'file.ini#name' can select in this file: its [app:], [composite:], [pipeline:] and [filter-app:]
    /// sections, in file order (for argument completion).
    /// </summary>
    public static IEnumerable<string> AppNames(string absolutePath)
    {
        foreach (var section in Open(absolutePath).Sections)
        {
            var colon = section.IndexOf(':');
            if (colon > 0 && AppPrefixGroups.Any(group => group.Contains(section[..colon].Trim(), StringComparer.OrdinalIgnoreCase)))
            {
                yield return section[(colon + 1)..].Trim();
            }
        }
    }

    /// <summary>Loads the settings of app <paramref name="name"/> (default 'main') from an absolute ini path.</summary>
    public static AppConfig Load(string absolutePath, string? name = null)
    {
        return LoadFile(absolutePath, name, null, 0);
    }

    private static IniFile Open(string absolutePath)
    {
        var full = System.IO.Path.GetFullPath(absolutePath);
        return IniFile.Load(full, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["here"] = System.IO.Path.GetDirectoryName(full) ?? full,
            ["__file__"] = full,
        });
    }

    private static AppConfig LoadFile(string absolutePath, string? name, IReadOnlyDictionary<string, string>? callerGlobal, int depth)
    {
        if (depth > MaxIncludeDepth)
        {
            throw new BeakerException("ConfigIncludeLoop", BeakerErrorKind.InvalidData,
                $"'{absolutePath}' is reached through more than {MaxIncludeDepth} nested 'use = config:' includes; check them for a loop.");
        }

        var ini = Open(absolutePath);
        if (callerGlobal != null)
        {
            ini.AddMissingDefaults(callerGlobal);
        }

        return Context(ini, name, callerGlobal, depth);
    }

    private static AppConfig Context(IniFile ini, string? name, IReadOnlyDictionary<string, string>? passedGlobal, int depth)
    {
        if (depth > MaxIncludeDepth)
        {
            // A pipeline or filter-app that names itself (or two that name each other) would recurse until the stack
            // overflows, which no error handler can catch.
            throw new BeakerException("ConfigIncludeLoop", BeakerErrorKind.InvalidData,
                $"In '{ini.Path}', finding the app{(name == null ? string.Empty : $" '{name}'")} goes through more than {MaxIncludeDepth} pipelines, filter-apps or 'use = config:' includes in a row; check their 'pipeline', 'next' and 'use' settings for a loop.");
        }

        if (name != null && name.StartsWith("config:", StringComparison.Ordinal))
        {
            return FromConfigUri(ini, name, passedGlobal, depth);
        }

        var section = FindSection(ini, name);
        var global = ini.InterpolatedDefaults();
        if (passedGlobal != null)
        {
            foreach (var pair in passedGlobal)
            {
                global[pair.Key] = pair.Value;
            }
        }

        var local = new Dictionary<string, string>(StringComparer.Ordinal);
        var globalAdditions = new Dictionary<string, string>(StringComparer.Ordinal);
        var fromGlobals = new List<(string Local, string Global)>();
        foreach (var option in ini.Options(section).ToList())
        {
            if (option.StartsWith("set ", StringComparison.Ordinal))
            {
                var setName = option.Substring(4).Trim();
                globalAdditions[setName] = global[setName] = ini.Get(section, option);
            }
            else if (option.StartsWith("get ", StringComparison.Ordinal))
            {
                fromGlobals.Add((option.Substring(4).Trim(), ini.Get(section, option)));
            }
            else if (!ini.IsDefaultKey(option))
            {
                local[option] = ini.Get(section, option);
            }
        }

        foreach (var (localName, globalName) in fromGlobals)
        {
            if (!global.TryGetValue(globalName, out var value))
            {
                throw new BeakerException("ConfigGetMissing", BeakerErrorKind.InvalidData,
                    $"In '{ini.Path}', [{section}]: 'get {localName} = {globalName}' names a global setting '{globalName}' that [DEFAULT] does not define.");
            }

            local[localName] = value;
        }

        if (section.StartsWith("pipeline", StringComparison.Ordinal))
        {
            return FollowPipeline(ini, section, local, global, depth);
        }

        if (section.StartsWith("filter-app", StringComparison.Ordinal))
        {
            if (!local.TryGetValue("next", out var next))
            {
                throw new BeakerException("ConfigSectionInvalid", BeakerErrorKind.InvalidData,
                    $"In '{ini.Path}', [{section}] has no 'next = <app>' setting.");
            }

            return Context(ini, next, global, depth + 1);
        }

        if (local.TryGetValue("use", out var use))
        {
            local.Remove("use");
            if (use.StartsWith("config:", StringComparison.Ordinal))
            {
                var included = FromConfigUri(ini, use, global, depth);
                var mergedGlobal = new Dictionary<string, string>(included.Global, StringComparer.Ordinal);
                foreach (var pair in globalAdditions)
                {
                    mergedGlobal[pair.Key] = pair.Value;
                }

                mergedGlobal["__file__"] = global["__file__"];
                var mergedLocal = new Dictionary<string, string>(included.Local, StringComparer.Ordinal);
                foreach (var pair in local)
                {
                    mergedLocal[pair.Key] = pair.Value;
                }

                return new AppConfig(ini.Path, section, mergedGlobal, mergedLocal);
            }

            if (section.StartsWith("composit", StringComparison.Ordinal))
            {
                throw new BeakerException("ConfigCompositeApp", BeakerErrorKind.InvalidArgument,
                    $"In '{ini.Path}', [{section}] dispatches to several apps ('use = {use}'). Name the app whose sessions you want: '{ini.Path}#<name>' for its [app:<name>] section.");
            }
        }

        return new AppConfig(ini.Path, section, global, local);
    }

    private static AppConfig FollowPipeline(IniFile ini, string section, Dictionary<string, string> local, Dictionary<string, string> global, int depth)
    {
        if (!local.TryGetValue("pipeline", out var pipeline) || string.IsNullOrWhiteSpace(pipeline))
        {
            throw new BeakerException("ConfigSectionInvalid", BeakerErrorKind.InvalidData,
                $"In '{ini.Path}', [{section}] has no 'pipeline = <filters> <app>' setting.");
        }

        var names = pipeline.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return Context(ini, names[^1], global, depth + 1);
    }

    private static AppConfig FromConfigUri(IniFile ini, string uri, IReadOnlyDictionary<string, string>? global, int depth)
    {
        var (relative, name) = SplitConfigUri(uri.Substring("config:".Length));
        relative = relative.Replace('\\', '/');
        string path;
        if (relative.StartsWith("///", StringComparison.Ordinal))
        {
            path = relative.Substring(2);
        }
        else
        {
            path = System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(ini.Path)!, relative));
        }

        return LoadFile(path, name, global, depth + 1);
    }

    private static string FindSection(IniFile ini, string? name)
    {
        var wanted = name ?? "main";
        var possible = new List<string>();
        foreach (var group in AppPrefixGroups)
        {
            foreach (var prefix in group)
            {
                var found = new List<string>();
                if (name == null && ini.HasSection(prefix))
                {
                    found.Add(prefix);
                }

                foreach (var section in ini.Sections)
                {
                    if (section.StartsWith(prefix + ":", StringComparison.Ordinal) && section.Substring(prefix.Length + 1).Trim() == wanted)
                    {
                        found.Add(section);
                    }
                }

                if (found.Count > 0)
                {
                    possible.AddRange(found);
                    break;
                }
            }
        }

        if (possible.Count == 0)
        {
            var apps = ini.Sections.Where(s => s.StartsWith("app:", StringComparison.Ordinal) || s.StartsWith("pipeline:", StringComparison.Ordinal) || s.StartsWith("composite:", StringComparison.Ordinal)).ToList();
            var known = apps.Count == 0 ? "it has no [app:...] section" : "it has " + string.Join(", ", apps.Select(s => "[" + s + "]"));
            throw new BeakerException("ConfigSectionNotFound", BeakerErrorKind.NotFound,
                $"'{ini.Path}' has no [app:{wanted}] section ({known}). Append '#<name>' to the path to choose [app:<name>].");
        }

        if (possible.Count > 1)
        {
            throw new BeakerException("ConfigSectionAmbiguous", BeakerErrorKind.InvalidData,
                $"'{ini.Path}' has several sections for '{wanted}': {string.Join(", ", possible.Select(s => "[" + s + "]"))}. paste.deploy refuses this too; keep one.");
        }

        return possible[0];
    }
}
