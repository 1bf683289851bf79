using System.Text;
using System.Text.RegularExpressions;

namespace BeakerHelpers.Core.Config;

/// <summary>
/// An ini file read the way paste.deploy's NicerConfigParser (Python 3 ConfigParser) reads it
/// (spec §1.3): case-sensitive keys and sections, '=' or ':' delimiters, stripped values,
/// indented continuation lines, full-line '#'/';' comments, and BasicInterpolation
/// (%(name)s from the section then [DEFAULT], %% for a literal %, at most 10 levels).
/// </summary>
public sealed class IniFile
{
    public const string DefaultSection = "DEFAULT";
    private const int MaxInterpolationDepth = 10;
    private static readonly Regex InterpolationReference = new(@"\G%\(([^)]+)\)s", RegexOptions.CultureInvariant);

    private readonly Dictionary<string, string> _defaults = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, string>> _sections = new(StringComparer.Ordinal);
    private readonly List<string> _sectionOrder = new();
    private readonly Dictionary<(string Section, string Key), int> _lines = new();

    private IniFile(string path)
    {
        Path = path;
    }

    /// <summary>The absolute path of the file.</summary>
    public string Path { get; }

    public IReadOnlyList<string> Sections => _sectionOrder;

    /// <summary>Reads a file; <paramref name="initialDefaults"/> are set before the file's [DEFAULT] (paste puts here and __file__ there).</summary>
    public static IniFile Load(string path, IReadOnlyDictionary<string, string>? initialDefaults = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (FileNotFoundException)
        {
            throw new BeakerException("ConfigFileNotFound", BeakerErrorKind.NotFound,
                $"The config file '{path}' does not exist. Pass the path of the app's paste.deploy ini file (for example production.ini).");
        }
        catch (DirectoryNotFoundException)
        {
            throw new BeakerException("ConfigFileNotFound", BeakerErrorKind.NotFound,
                $"The config file '{path}' does not exist: its folder is missing. Pass the path of the app's paste.deploy ini file.");
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new BeakerException("ConfigFileUnreadable", BeakerErrorKind.PermissionDenied,
                $"The config file '{path}' cannot be read: {ex.Message}", ex);
        }

        var ini = new IniFile(path);
        if (initialDefaults != null)
        {
            foreach (var pair in initialDefaults)
            {
                ini._defaults[pair.Key] = pair.Value;
            }
        }

        ini.Parse(text);
        return ini;
    }

    /// <summary>Adds defaults that the file does not set itself (paste's update_defaults(overwrite=False)).</summary>
    public void AddMissingDefaults(IReadOnlyDictionary<string, string> values)
    {
        foreach (var pair in values)
        {
            _defaults.TryAdd(pair.Key, pair.Value);
        }
    }

    public bool HasSection(string name) => _sections.ContainsKey(name);

    public IEnumerable<string> DefaultKeys => _defaults.Keys;

    public bool IsDefaultKey(string key) => _defaults.ContainsKey(key);

    /// <summary>The section's own keys, then the [DEFAULT] keys it does not set, as ConfigParser.options() lists them.</summary>
    public IEnumerable<string> Options(string section)
    {
        var own = _sections[section];
        foreach (var key in own.Keys)
        {
            yield return key;
        }

        foreach (var key in _defaults.Keys)
        {
            if (!own.ContainsKey(key))
            {
                yield return key;
            }
        }
    }

    /// <summary>A value with interpolation applied, looked up in the section and then [DEFAULT].</summary>
    public string Get(string section, string key)
    {
        var raw = Raw(section, key) ?? throw new KeyNotFoundException(key);
        return Interpolate(section, key, raw, 1);
    }

    /// <summary>The [DEFAULT] values, each interpolated against the defaults (PasteDeploy's defaults()).</summary>
    public Dictionary<string, string> InterpolatedDefaults()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in _defaults)
        {
            result[pair.Key] = Interpolate(DefaultSection, pair.Key, pair.Value, 1);
        }

        return result;
    }

    private string? Raw(string section, string key)
    {
        if (section != DefaultSection && _sections.TryGetValue(section, out var own) && own.TryGetValue(key, out var value))
        {
            return value;
        }

        return _defaults.TryGetValue(key, out var fallback) ? fallback : null;
    }

    private string Interpolate(string section, string key, string value, int depth)
    {
        if (depth > MaxInterpolationDepth)
        {
            throw Error("ConfigInterpolationTooDeep", section, key,
                $"interpolation of '{key}' nests more than {MaxInterpolationDepth} levels deep (a %(name)s reference loop?)");
        }

        if (value.IndexOf('%') < 0)
        {
            return value;
        }

        var builder = new StringBuilder(value.Length);
        var i = 0;
        while (i < value.Length)
        {
            var percent = value.IndexOf('%', i);
            if (percent < 0)
            {
                builder.Append(value, i, value.Length - i);
                break;
            }

            builder.Append(value, i, percent - i);
            if (percent + 1 < value.Length && value[percent + 1] == '%')
            {
                builder.Append('%');
                i = percent + 2;
                continue;
            }

            var match = InterpolationReference.Match(value, percent);
            if (!match.Success)
            {
                throw Error("ConfigInterpolationSyntax", section, key,
                    $"'%' must be followed by '%' or '(name)s', found '{value.Substring(percent)}'. Write %% for a literal percent sign");
            }

            var name = match.Groups[1].Value;
            var referenced = Raw(section, name) ?? throw Error("ConfigInterpolationMissing", section, key,
                $"'{key}' refers to %({name})s, which is set neither in [{section}] nor in [DEFAULT]");
            builder.Append(Interpolate(section, name, referenced, depth + 1));
            i = percent + match.Length;
        }

        return builder.ToString();
    }

    private BeakerException Error(string id, string section, string key, string what)
    {
        var line = _lines.TryGetValue((section, key), out var n) ? $", line {n}" : string.Empty;
        return new BeakerException(id, BeakerErrorKind.InvalidData, $"In '{Path}'{line}, [{section}]: {what}.");
    }

    private void Parse(string text)
    {
        string? section = null;
        Dictionary<string, string>? target = null;
        string? key = null;
        var pendingBlankLines = 0;
        var seenSections = new HashSet<string>(StringComparer.Ordinal);
        var lines = text.Replace("\r\n", "\n").Split('\n');

        for (var index = 0; index < lines.Length; index++)
        {
            var line = lines[index];
            var number = index + 1;
            var stripped = line.Trim();
            if (stripped.Length == 0)
            {
                if (key != null)
                {
                    pendingBlankLines++;
                }

                continue;
            }

            if (stripped[0] == '#' || stripped[0] == ';')
            {
                continue;
            }

            var indented = char.IsWhiteSpace(line[0]);
            if (indented && key != null && target != null)
            {
                target[key] = target[key] + new string('\n', pendingBlankLines + 1) + stripped;
                pendingBlankLines = 0;
                continue;
            }

            pendingBlankLines = 0;
            if (stripped[0] == '[' && stripped.EndsWith(']'))
            {
                section = stripped.Substring(1, stripped.Length - 2);
                if (!seenSections.Add(section))
                {
                    throw new BeakerException("ConfigSyntax", BeakerErrorKind.InvalidData,
                        $"In '{Path}', line {number}: section [{section}] appears twice. Merge the two sections.");
                }

                if (section == DefaultSection)
                {
                    target = _defaults;
                }
                else
                {
                    target = new Dictionary<string, string>(StringComparer.Ordinal);
                    _sections[section] = target;
                    _sectionOrder.Add(section);
                }

                key = null;
                continue;
            }

            if (target == null || section == null)
            {
                throw new BeakerException("ConfigSyntax", BeakerErrorKind.InvalidData,
                    $"In '{Path}', line {number}: '{stripped}' stands before any [section] header.");
            }

            var delimiter = stripped.IndexOfAny(new[] { '=', ':' });
            if (delimiter <= 0)
            {
                throw new BeakerException("ConfigSyntax", BeakerErrorKind.InvalidData,
                    $"In '{Path}', line {number}: '{stripped}' is neither 'key = value' nor a [section] header.");
            }

            key = stripped.Substring(0, delimiter).TrimEnd();
            if (target.ContainsKey(key) && (section != DefaultSection || _lines.ContainsKey((section, key))))
            {
                throw new BeakerException("ConfigSyntax", BeakerErrorKind.InvalidData,
                    $"In '{Path}', line {number}: '{key}' is set twice in [{section}]. Keep one of them.");
            }

            target[key] = stripped.Substring(delimiter + 1).Trim();
            _lines[(section, key)] = number;
        }
    }
}
