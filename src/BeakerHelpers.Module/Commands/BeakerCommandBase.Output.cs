using BeakerHelpers.Module.Output;
using System.Security;
using System.Runtime.InteropServices;
using System.Collections.Concurrent;
using System.Management.Automation;
using BeakerHelpers.Core;
using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Stores;
using BeakerHelpers.Core.Text;
using BeakerHelpers.Core.Stores.Redis;

namespace BeakerHelpers.Module.Commands;

/// <summary>
/// What a command says and how: every message masked (docs/secrets.md) and escaped (docs/views.md#escaping), output
/// from the thread that reads a store ahead queued until the pipeline thread can write it, and core failures as error records.
/// </summary>
public abstract partial class BeakerCommandBase
{
    /// <summary>Every secret of the settings in use; every message, verbose line and warning passes through it (docs/secrets.md).</summary>
    protected SecretMask Secrets { get; } = new();

    /// <summary>A verbose line, masked and escaped.</summary>
    protected new void WriteVerbose(string text) => Write(() => base.WriteVerbose(Said(text)));

    /// <summary>A warning, masked and escaped.</summary>
    protected new void WriteWarning(string text) => Write(() => base.WriteWarning(Said(text)));

    /// <summary>
    /// A message as the command says it: secrets masked, and what a store or visitor put in it (an id, a key, a path)
    /// unable to drive the terminal (docs/views.md#escaping).
    /// </summary>
    protected string Said(string text) => ScreenText.Escape(Secrets.Mask(text));

    /// <summary>The pipeline thread, the one PowerShell takes output on (BeginProcessing runs on it); 0 before.</summary>
    private int _pipelineThread;

    /// <summary>Notes the pipeline thread; a command that overrides this calls it first.</summary>
    protected override void BeginProcessing() => _pipelineThread = Environment.CurrentManagedThreadId;

    /// <summary>Notes and problems a store reported on the thread that reads it ahead (SessionReader.Read), in order.</summary>
    private readonly ConcurrentQueue<Action> _queued = new();

    /// <summary>
    /// Writes now on the pipeline thread, after what waited: PowerShell takes output only there. Elsewhere the write
    /// waits in the queue until the pipeline thread passes <see cref="WriteQueued"/> (per session, and after each store).
    /// </summary>
    private void Write(Action write)
    {
        if (_pipelineThread == 0 || Environment.CurrentManagedThreadId == _pipelineThread)
        {
            WriteQueued();
            write();
        }
        else
        {
            _queued.Enqueue(write);
        }
    }

    /// <summary>Writes the notes and problems other threads left, on the pipeline thread.</summary>
    protected void WriteQueued()
    {
        while (!_queued.IsEmpty && _queued.TryDequeue(out var write))
        {
            write();
        }
    }

    /// <summary>Remembers the secrets of these settings before anything about them is said.</summary>
    protected void LearnSecrets(SessionSettings settings)
    {
        Secrets.Add(settings.EncryptKey);
        Secrets.Add(settings.ValidateKey);
        Secrets.Add(settings.Cookie.Secret);
        if (settings.Url is not { } url)
        {
            return;
        }

        try
        {
            Secrets.Add(url.StartsWith("redis", StringComparison.OrdinalIgnoreCase) || url.StartsWith("unix:", StringComparison.OrdinalIgnoreCase)
                ? RedisUrl.Parse(url, settings.UrlSource).Password
                : SqlAlchemyUrl.Parse(url, settings.UrlSource).Password);
        }
        catch (BeakerException)
        {
            // A URL that does not parse is masked by its shape (SecretMask's patterns) when it is said.
        }
    }

    /// <summary>
    /// The error record of a core failure, its message masked. A message that had to be masked loses its inner
    /// exception too, whose text (a driver's) may hold the same secret.
    /// </summary>
    protected ErrorRecord ToErrorRecord(BeakerException ex, object? target)
    {
        var masked = Secrets.Mask(ex.Message);
        if (masked != ex.Message)
        {
            ex = new BeakerException(ex.ErrorId, ex.Kind, ScreenText.Escape(masked));
        }
        else if (ScreenText.NeedsEscape(masked))
        {
            ex = new BeakerException(ex.ErrorId, ex.Kind, ScreenText.Escape(masked), ex.InnerException);
        }

        var category = ex.Kind switch
        {
            BeakerErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
            BeakerErrorKind.NotFound => ErrorCategory.ObjectNotFound,
            BeakerErrorKind.InvalidData => ErrorCategory.InvalidData,
            BeakerErrorKind.ConnectionError => ErrorCategory.ConnectionError,
            BeakerErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
            _ => ErrorCategory.NotImplemented,
        };
        var record = new ErrorRecord(ex, ex.ErrorId, category, target);
        if (target is string text && ScreenText.NeedsEscape(text))
        {
            record.CategoryInfo.TargetName = ScreenText.Escape(text);
        }

        return record;
    }

    /// <summary>A key given as a [SecureString], as text for the one place that needs it.</summary>
    protected static string? Reveal(SecureString? secret)
    {
        if (secret == null)
        {
            return null;
        }

        var pointer = Marshal.SecureStringToGlobalAllocUnicode(secret);
        try
        {
            return Marshal.PtrToStringUni(pointer);
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(pointer);
        }
    }

    private SessionDisplayTypes? _displayTypes;

    /// <summary>Starts a new store's sessions: their key sets and type names are its own.</summary>
    protected void ForgetDisplayTypes() => _displayTypes = null;

    /// <summary>Writes a session with the type names that select its views (docs/views.md), registering each key set's once.</summary>
    protected void EmitSession(BeakerSession session)
    {
        _displayTypes ??= new SessionDisplayTypes(session.Properties.Expiring, (typeName, names) =>
        {
            try
            {
                // Update-TypeData as a command, in a nested pipeline of this runspace: nothing to parse, no scope touched.
                using var shell = PowerShell.Create(RunspaceMode.CurrentRunspace);
                shell.AddCommand("Microsoft.PowerShell.Utility\\Update-TypeData")
                    .AddParameter("TypeName", typeName).AddParameter("DefaultDisplayPropertySet", names).AddParameter("Force").AddParameter("ErrorAction", ActionPreference.Stop)
                    .Invoke();
                return true;
            }
            catch (Exception ex) when (ex is RuntimeException or InvalidOperationException)
            {
                WriteVerbose($"Format-List will show every key: the type data of a key set could not be registered ({ex.Message}).");
                return false;
            }
        });
        _displayTypes.Give(session);
        WriteObject(session);
    }
}
