using System.Management.Automation;
using System.Security;
using BeakerHelpers.Core;
using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Cookies;
using BeakerHelpers.Core.Sessions;
using BeakerHelpers.Core.Stores;
using BeakerHelpers.Core.Time;
using BeakerHelpers.Module.Output;

namespace BeakerHelpers.Module.Commands;

/// <summary>
/// Reads what a browser holds (docs/cookies.md): a cookie session decoded from the cookie once its signature holds, or
/// a server-side session looked up by the id its cookie carries. The result is the object Get-BeakerSession emits.
/// </summary>
[Cmdlet(VerbsData.ConvertFrom, "BeakerCookie", DefaultParameterSetName = ConfigParameterSet)]
[OutputType(typeof(BeakerSession))]
public sealed class ConvertFromBeakerCookieCommand : BeakerCommandBase
{
    /// <summary>The app's paste.deploy ini file; 'file.ini#name' selects [app:name].</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ConfigParameterSet)]
    [Alias("Path", "Config")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ConfigSectionCompleter))]
    public string[]? ConfigPath { get; set; }

    /// <summary>The same, taken as written.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralParameterSet)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[]? LiteralPath { get; set; }

    /// <summary>A cookie value, name=value, or a whole Cookie: or Set-Cookie: header.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string[] Value { get; set; } = Array.Empty<string>();

    /// <summary>secret (what signs a server-side session's id), when the ini does not hold it.</summary>
    [Parameter]
    [SecretTransformation]
    public SecureString? Secret { get; set; }

    protected override string[]? ConfigPaths => ConfigPath;

    protected override string[]? LiteralPaths => LiteralPath;

    private bool _warnedUnsigned;

    protected override void ProcessRecord() => ProcessStores(ProcessStore);

    private void ProcessStore(SessionSettings settings)
    {
        var secret = Reveal(Secret);
        Secrets.Add(secret);
        settings = settings.WithKeys(null, null, secret);
        var cookies = new CookieReader(settings, AppTimeZone);
        var cutoff = AgeCutoff.Resolve(null, settings, AppTimeZone).Cutoff;
        ForgetDisplayTypes();
        var properties = new SessionPropertySet();
        ISessionStore? store = null;
        try
        {
            foreach (var value in Value)
            {
                CookieSession cookie;
                try
                {
                    cookie = cookies.Read(value);
                }
                catch (BeakerException ex)
                {
                    // The value itself is a credential: errors name the cookie, never its value.
                    WriteError(ToErrorRecord(ex, cookies.CookieName));
                    continue;
                }

                if (cookie.Session is { } session)
                {
                    Emit(new BeakerSession(session, new BeakerStoreInfo(settings, session.Store), properties), cutoff);
                    continue;
                }

                if (!cookie.Verified && !_warnedUnsigned)
                {
                    _warnedUnsigned = true;
                    WriteWarning($"{settings.Source} has no {settings.Prefix}.secret: the cookie's id is taken as it is, and the site accepts any id a visitor's cookie names (Test-BeakerConfiguration: UnsignedSessionId).");
                }

                store ??= OpenStore(settings);
                var found = new SessionReader(settings.Decoder(), AppTimeZone).ReadIds(store, new[] { cookie.SessionId }, CancellationToken).Take(1).ToList();
                if (found.Count == 1 && found[0].Session is { } stored)
                {
                    Emit(new BeakerSession(stored, new BeakerStoreInfo(settings, store.Description), properties), cutoff);
                }
                else if (found.Count == 1 && found[0].Error is { } error)
                {
                    WriteError(ToErrorRecord(new BeakerException("SessionCorrupt", BeakerErrorKind.InvalidData,
                        $"The session the cookie '{cookies.CookieName}' names in {store.Description} cannot be read: {error.Message.TrimEnd('.')}."), cookies.CookieName));
                }
                else
                {
                    WriteError(ToErrorRecord(new BeakerException("SessionNotFound", BeakerErrorKind.NotFound,
                        $"{store.Description} holds no session '{cookie.SessionId}', which the cookie '{cookies.CookieName}' names (it expired and was removed, or was never saved)."), cookies.CookieName));
                }
            }
        }
        finally
        {
            store?.Dispose();
        }
    }

    /// <summary>Writes a session with BeakerExpired: whether it was last used before the app's timeout.</summary>
    private void Emit(BeakerSession session, DateTime? cutoff)
    {
        var output = PSObject.AsPSObject(session);
        output.Properties.Add(new PSNoteProperty("BeakerExpired", cutoff is { } c && session.Accessed < c));
        EmitSession(session);
    }
}
