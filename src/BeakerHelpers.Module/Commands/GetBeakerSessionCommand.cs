using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Security;
using BeakerHelpers.Core;
using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Payload;
using BeakerHelpers.Core.Sessions;
using BeakerHelpers.Module.Output;

namespace BeakerHelpers.Module.Commands;

/// <summary>Lists the sessions a Beaker app stored, decoded, oldest access first.</summary>
[Cmdlet(VerbsCommon.Get, "BeakerSession", DefaultParameterSetName = ConfigParameterSet)]
[OutputType(typeof(BeakerSession))]
public sealed class GetBeakerSessionCommand : PipedConfigCommandBase
{
    /// <summary>
    /// Sessions are held back until this many have been read (or the store ends), so that the first one
    /// already reports the keys of all of them and Format-Table shows a column for each.
    /// </summary>
    private const int LookAhead = 1000;

    /// <summary>Only these sessions, looked up by id (exact, as BeakerId shows them); ids the store does not hold are reported.</summary>
    [Parameter]
    [Alias("BeakerId")]
    [ValidateNotNullOrEmpty]
    public string[]? Id { get; set; }



    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        if (Id != null && Timeout != null)
        {
            ThrowTerminating(new BeakerException("TimeoutWithId", BeakerErrorKind.InvalidArgument,
                "-Timeout and -Id cannot be combined: sessions asked for by id are shown whatever their age. Drop one of them."), Timeout);
        }
    }

    protected override void ProcessStore(SessionSettings settings)
    {
        DateTime? cutoff = null;
        if (Id == null)
        {
            var age = ResolveCutoff(settings);
            cutoff = age.Cutoff;
            WriteVerbose(age.Said is { } said ? $"Showing sessions accessed since {said}." : $"Showing all sessions ({age.Source}).");
        }

        var keys = settings.Keys();
        using var store = OpenStore(settings);
        var storeInfo = new BeakerStoreInfo(settings, store.Description);
        if (keys != null)
        {
            WriteVerbose($"Encrypted sessions are decrypted with the keys from {settings.KeySource}" +
                $"{(keys.CryptoType == null ? string.Empty : $", crypto_type {keys.CryptoType}")}{(keys.NonceBits == null ? string.Empty : $", {keys.NonceBits}-bit nonces")}.");
        }

        if (cutoff != null)
        {
            CheckAppClock(store, settings, refuse: false);
        }

        var reader = new SessionReader(settings.Decoder(), AppTimeZone);
        var properties = new SessionPropertySet(expiring: store.SessionsExpire);
        ForgetDisplayTypes();
        var pending = new List<BeakerSession>(LookAhead);
        int sessions = 0, skipped = 0, errors = 0;
        var wanted = Id?.Distinct(StringComparer.Ordinal).ToList();
        var found = wanted == null ? null : new HashSet<string>(StringComparer.Ordinal);
        var results = wanted == null ? reader.Read(store, cutoff, CancellationToken) : reader.ReadIds(store, wanted, CancellationToken);
        foreach (var result in results)
        {
            WriteQueued();
            found?.Add(result.Id);
            if (result.Session != null)
            {
                sessions++;
                var session = new BeakerSession(result.Session, storeInfo, properties);
                if (pending != null)
                {
                    pending.Add(session);
                    if (pending.Count == LookAhead)
                    {
                        Flush(pending);
                        pending = null;
                    }
                }
                else
                {
                    EmitSession(session);
                }
            }
            else if (result.Error != null)
            {
                errors++;
                WriteError(ToErrorRecord(new PayloadException($"Session '{result.Id}' in {store.Description} cannot be read: {result.Error.Message.TrimEnd('.')}.", result.Error.ErrorId, result.Error), result.Id));
            }
            else
            {
                skipped++;
            }
        }

        if (pending != null)
        {
            Flush(pending);
        }

        foreach (var missing in wanted?.Where(id => !found!.Contains(id)) ?? Enumerable.Empty<string>())
        {
            WriteError(ToErrorRecord(new BeakerException("SessionNotFound", BeakerErrorKind.NotFound,
                $"{store.Description} holds no session '{missing}' (the id is matched exactly; it may have been removed or never saved)."), missing));
        }

        WriteVerbose($"{sessions} session(s) listed from {store.Description}; {skipped} row(s) skipped because they are not sessions (cache namespaces sharing the table); {errors} unreadable.");
    }

    private void Flush(List<BeakerSession> pending)
    {
        foreach (var session in pending)
        {
            EmitSession(session);
        }
    }
}
