using BeakerHelpers.Core.Text;

namespace BeakerHelpers.Core.Payload.Values;

/// <summary>
/// An instance of a class the reader does not know (an application's own, mostly): a <see cref="PythonDict"/> whose
/// first entry '__class__' is 'module.Name', then the keys of its state (its __dict__ and __slots__), and
/// '__args__', '__kwargs__', '__items__' where it was built with arguments or given items (docs/pickle.md).
/// Shown as module.Name{key=value, ...}.
/// </summary>
public class PythonObject : PythonDict
{
    public const string ClassKey = "__class__";
    public const string ArgsKey = "__args__";
    public const string KwargsKey = "__kwargs__";
    public const string ItemsKey = "__items__";
    public const string StateKey = "__state__";

    private readonly string? _display;

    internal PythonObject(string className, string? display = null)
    {
        ClassName = className;
        _display = display;
        Set(ClassKey, ClassKey, className);
    }

    /// <summary>The class as Python names it: 'module.Name'.</summary>
    public string ClassName { get; }

    /// <summary>A display of its own (Role.ADMIN, range(0, 10, 2)), or null for module.Name{key=value, ...}.</summary>
    internal string? CustomDisplay => _display;

    public override string ToString() => _display ?? PythonText.Display(this);
}

/// <summary>
/// A member of an Enum, IntEnum or Flag class, as Python 3.11 pickles it (getattr(Class, 'NAME'); a Flag
/// combination is an or_ of members). Shown as Class.NAME (Class.A|B for a combination); its two properties
/// are named as Python names them, so that JSON and CLIXML exports read {"__class__": ..., "name": ...}.
/// </summary>
public sealed class PythonEnumMember
{
    internal PythonEnumMember(string className, string memberName)
    {
        __class__ = className;
        name = memberName;
    }

#pragma warning disable IDE1006, SA1300, CA1707 // Python's names, as PowerShell users type them ($s.role.name).
    /// <summary>The enum class as 'module.Name'.</summary>
    public string __class__ { get; }

    /// <summary>The member's name; members of a Flag combination joined by '|'.</summary>
    public string name { get; }
#pragma warning restore IDE1006, SA1300, CA1707

    internal string ClassName => __class__;

    internal string MemberName => name;

    public override string ToString() => ScreenText.Escape(ClassName[(ClassName.LastIndexOf('.') + 1)..] + "." + MemberName);

    public override bool Equals(object? obj) => obj switch
    {
        PythonEnumMember other => other.ClassName == ClassName && other.MemberName == MemberName,

        // So that Where-Object role -eq 'Role.ADMIN' (or 'ADMIN') finds it, as the listing shows it.
        string text => text == ToString() || text == MemberName,
        _ => false,
    };

    public override int GetHashCode() => HashCode.Combine(ClassName, MemberName);
}
