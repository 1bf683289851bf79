using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace BeakerHelpers.Module.Loading;

/// <summary>Sends the runtime to <see cref="ModuleLoadContext"/> for BeakerHelpers.Core when the module is imported.</summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private const string CoreAssemblyName = "BeakerHelpers.Core";

    private static readonly string LibDirectory = Path.Combine(Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!, "lib");
    private static readonly Lazy<ModuleLoadContext> LoadContext = new(() => new ModuleLoadContext(LibDirectory));

    public void OnImport()
    {
        AssemblyLoadContext.Default.Resolving += ResolveCore;
    }

    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        AssemblyLoadContext.Default.Resolving -= ResolveCore;
    }

    private static Assembly? ResolveCore(AssemblyLoadContext context, AssemblyName name)
    {
        return name.Name == CoreAssemblyName ? LoadContext.Value.LoadFromAssemblyName(name) : null;
    }
}
