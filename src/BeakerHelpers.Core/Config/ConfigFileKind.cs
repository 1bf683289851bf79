using System.Runtime.InteropServices;

namespace BeakerHelpers.Core.Config;

/// <summary>
/// What a path names before it is opened: opening a named pipe waits for a writer (forever, and Ctrl+C cannot stop
/// it), a device may never end, and neither is an ini file. .NET has no public call for a file's type on Unix, so this
/// asks the runtime's own native shim (the stat .NET's file APIs use), whose file-status layout puts the mode second
/// on every Unix .NET runs on (docs/storage.md#settings).
/// </summary>
internal static class ConfigFileKind
{
    private const int TypeMask = 0xF000;

    /// <summary>Null for a regular file (or where the type cannot be learned); else what it is, in words.</summary>
    public static string? NotAFile(string path)
    {
        if (Directory.Exists(path))
        {
            return "a folder";
        }

        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        int mode;
        try
        {
            mode = ModeOf(path);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }

        return (mode & TypeMask) switch
        {
            -1 => null,
            0x1000 => "a named pipe (FIFO)",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0xC000 => "a socket",
            _ => null,
        };
    }

    private static int ModeOf(string path)
    {
        // Room to spare: the shim's structure is about 120 bytes and has only grown at its end.
        var status = new byte[512];
        return Stat(path, status) == 0 ? BitConverter.ToInt32(status, 4) : -1;
    }

#pragma warning disable CA2101 // The path is marshaled explicitly, as UTF-8 (the shim's encoding): the rule does not see LPUTF8Str.
    [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat", SetLastError = true)]
    private static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [Out] byte[] status);
#pragma warning restore CA2101
}
