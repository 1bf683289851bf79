using System.Text;
using System.Text.RegularExpressions;
using BeakerHelpers.Core.Text;

namespace BeakerHelpers.Core.Config;

/// <summary>
/// An ini file read the way paste.deploy's NicerConfigParser (Python 3 ConfigParser) reads it
/// (docs/storage.md#settings): case-sensitive keys and sections, '=' or ':' delimiters, stripped values,
/// indented continuation lines, full-line '#'/';' comments, and BasicInterpolation
/// (%(name)s from the section then [DEFAULT], %% for a literal %, at most 10 levels).
/// </summary>
public sealed class IniFile
{
    /// <summary>What ends a key: ConfigParser's delimiters.</summary>
    private static readonly System.Buffers.SearchValues<char> Delimiters = System.Buffers.SearchValues.Create("=:");

    public const string DefaultSection = "DEFAULT";
    private const int MaxInterpolationDepth = 10;

    /// <summary>A config file larger than this is refused (real ones are a few KiB; /dev/zero never ends).</summary>
    public const int MaxFileBytes = 4 * 1024 * 1024;

    /// <summary>An interpolated value longer than this is refused: ten references to ten references ... grow tenfold a level.</summary>
    public const int MaxInterpolatedLength = 64 * 1024;

    /// <summary>References one value may expand, counting those inside the values it refers to.</summary>
    private const int MaxReferences = 10_000;

    /// <summary>How much of a line or name an error message quotes: never a value, which may be a password.</summary>
    private const int QuotedChars = 60;
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
            text = ReadBounded(path);
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
        var references = 0;
        return Interpolate(section, key, raw, 1, ref references);
    }

    private static string ReadBounded(string path)
    {
        // A named pipe would block the open itself, and a device may never end: neither is opened.
        if (ConfigFileKind.NotAFile(path) is { } what)
        {
            throw new BeakerException("ConfigFileNotRegular", BeakerErrorKind.InvalidArgument,
                $"The config file '{path}' is {what}, not a file; nothing was read from it. Pass the path of the app's paste.deploy ini file.");
        }

        // Read in pieces up to the limit: a file that keeps growing must not fill the memory.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 16 * 1024, FileOptions.SequentialScan);
        using var bytes = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (bytes.Length + read > MaxFileBytes)
            {
                throw new BeakerException("ConfigFileTooLarge", BeakerErrorKind.InvalidData,
                    $"The config file '{path}' is larger than {MaxFileBytes / (1024 * 1024)} MiB; a paste.deploy ini file is a few KiB. Check that the path names the app's ini file.");
            }

            bytes.Write(buffer, 0, read);
        }

        var text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetString(bytes.GetBuffer(), 0, (int)bytes.Length);
        return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
    }

    /// <summary>A name or line as an error message may quote it: at most 60 characters, control characters escaped.</summary>
    private static string Quote(string text)
    {
        var shown = text.Length > QuotedChars ? text[..QuotedChars] + "…" : text;
        return ScreenText.Escape(shown);
    }

    /// <summary>The [DEFAULT] values, each interpolated against the defaults (PasteDeploy's defaults()).</summary>
    public Dictionary<string, string> InterpolatedDefaults()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in _defaults)
        {
            var references = 0;
            result[pair.Key] = Interpolate(DefaultSection, pair.Key, pair.Value, 1, ref references);
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

    private string Interpolate(string section, string key, string value, int depth, ref int references)
    {
        if (depth > MaxInterpolationDepth)
        {
            throw Error("ConfigInterpolationTooDeep", section, key,
                $"interpolation of '{Quote(key)}' nests more than {MaxInterpolationDepth} levels deep (a %(name)s reference loop?)");
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
                // The value is not quoted: it may be a password or a URL holding one.
                throw Error("ConfigInterpolationSyntax", section, key,
                    $"the value of '{Quote(key)}' has a '%' (at character {percent + 1}) that is followed by neither '%' nor '(name)s'. Write %% for a literal percent sign, as in a URL's percent-encoded password (%%40 for @)");
            }

            var name = match.Groups[1].Value;
            if (++references > MaxReferences)
            {
                throw Error("ConfigInterpolationTooLong", section, key,
                    $"the value of '{Quote(key)}' expands more than {MaxReferences} %(name)s references");
            }

            var referenced = Raw(section, name) ?? throw Error("ConfigInterpolationMissing", section, key,
                $"'{Quote(key)}' refers to %({Quote(name)})s, which is set neither in [{Quote(section)}] nor in [DEFAULT]");
            builder.Append(Interpolate(section, name, referenced, depth + 1, ref references));
            if (builder.Length > MaxInterpolatedLength)
            {
                throw Error("ConfigInterpolationTooLong", section, key,
                    $"the value of '{Quote(key)}' expands to more than {MaxInterpolatedLength / 1024} KiB through its %(name)s references");
            }

            i = percent + match.Length;
        }

        return builder.ToString();
    }

    private BeakerException Error(string id, string section, string key, string what)
    {
        var line = _lines.TryGetValue((section, key), out var n) ? $", line {n}" : string.Empty;
        return new BeakerException(id, BeakerErrorKind.InvalidData, $"In '{Path}'{line}, [{Quote(section)}]: {what}.");
    }

    private void Parse(string text)
    {
        string? section = null;
        Dictionary<string, string>? target = null;
        string? key = null;
        var pendingBlankLines = 0;

        // The value being continued by indented lines, joined once it ends: appending to the stored string each time was
        // quadratic in the value's length.
        StringBuilder? continued = null;
        void EndValue()
        {
            if (continued != null && key != null && target != null)
            {
                target[key] = continued.ToString();
            }

            continued = null;
        }

        var seenSections = new HashSet<string>(StringComparer.Ordinal);
        var lines = text.Replace("\r\n", "\n").Split('\n');

        for (var index = 0; index < lines.Length; index++)
        {
            var line = lines[index];
            var number = index + 1;
            if (line.Contains('\0', StringComparison.Ordinal))
            {
                throw new BeakerException("ConfigSyntax", BeakerErrorKind.InvalidData,
                    $"In '{Path}', line {number}: the line holds a NUL character, which no text ini file has. Check that the path names the app's ini file.");
            }

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
                continued ??= new StringBuilder(target[key]);
                continued.Append('\n', pendingBlankLines + 1).Append(stripped);
                pendingBlankLines = 0;
                continue;
            }

            EndValue();
            pendingBlankLines = 0;
            if (stripped[0] == '[' && stripped.EndsWith(']'))
            {
                section = stripped.Substring(1, stripped.Length - 2);
                if (!seenSections.Add(section))
                {
                    throw new BeakerException("ConfigSyntax", BeakerErrorKind.InvalidData,
                        $"In '{Path}', line {number}: section [{Quote(section)}] appears twice. Merge the two sections.");
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
                // Only the key is quoted: the line may hold a password.
                var before = stripped.AsSpan().IndexOfAny(Delimiters);
                var what = before > 0 ? $"the setting '{Quote(stripped[..before].TrimEnd())}'" : "a line";
                throw new BeakerException("ConfigSyntax", BeakerErrorKind.InvalidData,
                    $"In '{Path}', line {number}: {what} stands before any [section] header.");
            }

            var delimiter = stripped.AsSpan().IndexOfAny(Delimiters);
            if (delimiter <= 0)
            {
                throw new BeakerException("ConfigSyntax", BeakerErrorKind.InvalidData,
                    $"In '{Path}', line {number}: the line is neither 'key = value' nor a [section] header (an indented line continues the value above it).");
            }

            key = stripped.Substring(0, delimiter).TrimEnd();
            if (target.ContainsKey(key) && (section != DefaultSection || _lines.ContainsKey((section, key))))
            {
                throw new BeakerException("ConfigSyntax", BeakerErrorKind.InvalidData,
                    $"In '{Path}', line {number}: '{Quote(key)}' is set twice in [{Quote(section)}]. Keep one of them.");
            }

            target[key] = stripped.Substring(delimiter + 1).Trim();
            _lines[(section, key)] = number;
        }

        EndValue();
    }
}
