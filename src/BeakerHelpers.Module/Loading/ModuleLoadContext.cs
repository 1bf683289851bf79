using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace BeakerHelpers.Module.Loading;

/// <summary>
/// Loads BeakerHelpers.Core and its dependencies (SQLite, Npgsql, MySqlConnector, ...) from the module's
/// lib/ folder into a context of their own, so another module's copy of the same assembly never clashes
/// with ours. It also finds the native SQLite library in lib/runtimes/&lt;rid&gt;/native, which an imported
/// module's .deps.json cannot tell the runtime about.
/// </summary>
internal sealed class ModuleLoadContext : AssemblyLoadContext
{
    private readonly string _libDirectory;

    public ModuleLoadContext(string libDirectory)
        : base("BeakerHelpers", isCollectible: false)
    {
        _libDirectory = libDirectory;
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var path = Path.Combine(_libDirectory, assemblyName.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = NativeLibraryPath(unmanagedDllName);
        return path != null && File.Exists(path) ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
    }

    private string? NativeLibraryPath(string name)
    {
        var architecture = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.Arm64 => "arm64",
            Architecture.X86 => "x86",
            Architecture.Arm => "arm",
            _ => null,
        };
        if (architecture == null)
        {
            return null;
        }

        string os, file;
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            (os, file) = ("win", name + ".dll");
        }
        else if (RuntimeInformation.IsOSPlatform(OSPlatform.OSX))
        {
            (os, file) = ("osx", "lib" + name + ".dylib");
        }
        else
        {
            (os, file) = ("linux", "lib" + name + ".so");
        }

        return Path.Combine(_libDirectory, "runtimes", os + "-" + architecture, "native", file);
    }
}
