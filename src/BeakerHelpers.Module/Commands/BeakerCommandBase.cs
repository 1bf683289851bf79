using System.Security;
using System.Management.Automation;
using BeakerHelpers.Core;
using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Sessions;
using BeakerHelpers.Core.Stores;
using BeakerHelpers.Core.Text;
using BeakerHelpers.Core.Time;

namespace BeakerHelpers.Module.Commands;

/// <summary>
/// What the BeakerHelpers cmdlets share: where the settings come from (an ini file or a URL), the
/// timeout, cancellation on Ctrl+C, and turning core failures into error records.
/// </summary>
public abstract partial class BeakerCommandBase : PSCmdlet, IDisposable
{
    protected const string ConfigParameterSet = "Config";
    protected const string UrlParameterSet = "Url";
    protected const string LiteralParameterSet = "Literal";

    private readonly CancellationTokenSource _cancellation = new();
    private bool _disposed;

    /// <summary>-ConfigPath as the cmdlet declares it: paste.deploy ini files, wildcards allowed; 'file.ini#name' selects [app:name].</summary>
    protected abstract string[]? ConfigPaths { get; }

    /// <summary>-LiteralPath as the cmdlet declares it: the same, without wildcards.</summary>
    protected abstract string[]? LiteralPaths { get; }

    /// <summary>The ini files given, as written: -LiteralPath's or -ConfigPath's, whichever the parameter set has.</summary>
    private string[] GivenPaths => (LiteralGiven ? LiteralPaths : ConfigPaths) ?? Array.Empty<string>();

    /// <summary>Whether the ini files are taken as written (-LiteralPath, or files that came through the pipeline).</summary>
    protected virtual bool LiteralGiven => ParameterSetName == LiteralParameterSet;
    /// <summary>The prefix of the session settings in the ini file.</summary>
    [Parameter(ParameterSetName = ConfigParameterSet)]
    [Parameter(ParameterSetName = LiteralParameterSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PrefixCompleter))]
    public string Prefix { get; set; } = SessionSettings.DefaultPrefix;

    /// <summary>A SQLAlchemy URL, for stores without an ini file.</summary>
    [Parameter(Mandatory = true, ParameterSetName = UrlParameterSet)]
    [ValidateNotNullOrEmpty]
    public string Url { get; set; } = string.Empty;

    [Parameter(ParameterSetName = UrlParameterSet)]
    [ValidateNotNullOrEmpty]
    public string TableName { get; set; } = SessionSettings.DefaultTableName;

    [Parameter(ParameterSetName = UrlParameterSet)]
    [ValidateNotNullOrEmpty]
    public string? SchemaName { get; set; }

    /// <summary>Sessions not accessed for longer than this are old: '3s', '14m', '36h', '2d', seconds or a [TimeSpan].</summary>
    [Parameter]
    [TimeoutTransformation]
    public TimeSpan? Timeout { get; set; }

    /// <summary>
    /// The app server's time zone, when it differs from this machine's: Beaker stores row times as that
    /// server's local time without a zone. An IANA or Windows id, 'UTC', or a [TimeZoneInfo].
    /// </summary>
    [Parameter]
    [TimeZoneTransformation]
    [ArgumentCompleter(typeof(TimeZoneCompleter))]
    public TimeZoneInfo? TimeZone { get; set; }

    /// <summary>encrypt_key, when the ini does not hold it (or to use another): a [SecureString], a [PSCredential] or a string.</summary>
    [Parameter]
    [SecretTransformation]
    public SecureString? EncryptKey { get; set; }

    /// <summary>validate_key, when the ini does not hold it (or to use another).</summary>
    [Parameter]
    [SecretTransformation]
    public SecureString? ValidateKey { get; set; }

    protected TimeZoneInfo AppTimeZone => TimeZone ?? TimeZoneInfo.Local;

    /// <summary>The settings with -EncryptKey and -ValidateKey folded in (once, before any store opens), their secrets learned.</summary>
    private SessionSettings WithGivenKeys(SessionSettings settings)
    {
        var (encryptKey, validateKey) = (Reveal(EncryptKey), Reveal(ValidateKey));
        Secrets.Add(encryptKey);
        Secrets.Add(validateKey);
        return settings.WithKeys(encryptKey, validateKey);
    }

    protected CancellationToken CancellationToken => _cancellation.Token;

    protected override void StopProcessing()
    {
        _cancellation.Cancel();
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _cancellation.Dispose();
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>One ini file to read settings from: as given, resolved, and the [app:name] section it selects.</summary>
    protected sealed record ConfigTarget(string Given, string File, string? AppName);

    /// <summary>
    /// Runs <paramref name="body"/> once per store: the -Url's, or each ini file -ConfigPath or -LiteralPath names, in
    /// turn. A failure of one ini file stops the command when it is the only one; with several (or from the pipeline)
    /// it is written as that file's error and the next goes on.
    /// </summary>
    /// <summary>
    /// ProcessRecord of a cmdlet that does one thing per store: <see cref="ForEachStore"/>, a failure that stops the
    /// command written as its terminating error, and Ctrl+C left to PowerShell.
    /// </summary>
    protected void ProcessStores(Action<SessionSettings> body)
    {
        try
        {
            ForEachStore(body);
        }
        catch (BeakerException ex)
        {
            ThrowTerminating(ex, ParameterSetName == UrlParameterSet ? null : (object?)ConfigPaths ?? LiteralPaths);
        }
        catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested)
        {
            // Ctrl+C: PowerShell stops the pipeline; nothing to report.
        }
    }

    protected void ForEachStore(Action<SessionSettings> body)
    {
        try
        {
            ForEachStoreOnce(body);
        }
        finally
        {
            WriteQueued();
        }
    }

    private void ForEachStoreOnce(Action<SessionSettings> body)
    {
        if (ParameterSetName == UrlParameterSet)
        {
            body(UrlSettings());
            return;
        }

        var given = GivenPaths;
        var one = given.Length == 1 && !MyInvocation.ExpectingInput;
        foreach (var value in given)
        {
            IReadOnlyList<ConfigTarget> targets;
            try
            {
                targets = ResolveConfigTargets(value, literal: LiteralGiven);
            }
            catch (BeakerException ex) when (!one)
            {
                WriteError(ToErrorRecord(ex, value));
                continue;
            }

            foreach (var target in targets)
            {
                try
                {
                    body(SettingsOf(target));
                }
                catch (BeakerException ex) when (!one || targets.Count > 1)
                {
                    WriteError(ToErrorRecord(ex, target.Given));
                }
            }
        }
    }

    /// <summary>The settings of the one store the command names (-Url, or one ini file); several is an error.</summary>
    protected SessionSettings ResolveSettings()
    {
        if (ParameterSetName == UrlParameterSet)
        {
            return UrlSettings();
        }

        var targets = GivenPaths.SelectMany(value => ResolveConfigTargets(value, ParameterSetName == LiteralParameterSet)).ToList();
        if (targets.Count != 1)
        {
            throw new BeakerException("OneConfigRequired", BeakerErrorKind.InvalidArgument,
                $"Sessions given by id belong to one store, but {(ParameterSetName == LiteralParameterSet ? "-LiteralPath" : "-ConfigPath")} names {targets.Count} ini files " +
                $"({string.Join(", ", targets.Take(5).Select(t => t.File))}). Name one, or pipe sessions from Get-BeakerSession (each carries its store).");
        }

        return SettingsOf(targets[0]);
    }

    /// <summary>Settings for -Url: a SQLAlchemy URL of a table, or a Redis URL.</summary>
    private SessionSettings UrlSettings()
    {
        var fromUrl = SessionSettings.FromUrl(Url, TableName, SchemaName, SessionState.Path.CurrentFileSystemLocation.ProviderPath);
        LearnSecrets(fromUrl);
        return WithGivenKeys(fromUrl);
    }

    private SessionSettings SettingsOf(ConfigTarget target)
    {
        WriteVerbose($"Reading the settings of [app:{target.AppName ?? "main"}] from '{target.File}' with prefix '{SessionSettings.NormalizePrefix(Prefix)}'.");
        var config = PasteDeployLoader.Load(target.File, target.AppName);
        var settings = SessionSettings.FromConfig(config, Prefix, SessionState.Path.CurrentFileSystemLocation.ProviderPath);
        LearnSecrets(settings);
        if (!SessionSettings.HasAnySetting(config, Prefix))
        {
            throw new BeakerException("SettingMissing", BeakerErrorKind.NotFound,
                $"{settings.Source} has no setting that starts with '{settings.Prefix}.'. Pass the prefix the app uses with -Prefix (for example -Prefix session).");
        }

        return WithGivenKeys(settings);
    }

    /// <summary>The age limit in force for these settings (-Timeout, else &lt;prefix&gt;.timeout, else none).</summary>
    protected AgeCutoff ResolveCutoff(SessionSettings settings) => AgeCutoff.Resolve(Timeout, settings, AppTimeZone);

    /// <summary>
    /// Compares the app server's UTC offset, measured from the store's own rows (AppClock), with the zone the cutoff is
    /// computed in. A removal refuses when they disagree (a cutoff in the wrong zone removes live sessions); a listing
    /// warns. Where nothing can be measured the command goes on and says so in -Verbose.
    /// </summary>
    protected void CheckAppClock(ISessionStore store, SessionSettings settings, bool refuse)
    {
        if (!store.TimesAreLocal)
        {
            return;
        }

        AppClockReading? reading;
        try
        {
            reading = AppClock.Measure(store, settings.Decoder(), AppTimeZone, CancellationToken);
        }
        catch (BeakerException ex) when (ex.ErrorId != "AppTimeZoneMismatch")
        {
            WriteVerbose($"The app server's clock could not be measured from {store.Description} ({ex.Message}); the cutoff is computed in {AppTimeZone.Id} as given.");
            return;
        }

        if (reading == null)
        {
            WriteVerbose($"The app server's clock could not be measured from {store.Description} (no sampled session holds an _accessed_time that could be read); the cutoff is computed in {AppTimeZone.Id} as given.");
            return;
        }

        if (!reading.Disagrees)
        {
            WriteVerbose($"The app server's clock: {AppClockReading.Show(reading.Measured)} from {reading.Sessions} session(s), as {AppTimeZone.Id} gives.");
            return;
        }

        string found, fix;
        if (reading.IsZoneOffset)
        {
            found = $"the store's rows show the app server's clock at {AppClockReading.Show(reading.Measured)} (measured from {reading.Sessions} session(s): their accessed column against the _accessed_time each holds), " +
                $"but the cutoff is computed in {AppTimeZone.Id} ({AppClockReading.Show(reading.Expected)})";
            fix = reading.FixedZone is { } fixedZone
                ? $"Pass the app server's zone: -TimeZone <its IANA name, such as Europe/Vilnius>, or -TimeZone {fixedZone} for the fixed offset {AppClockReading.Show(reading.Measured)}."
                : $"Pass the app server's zone: -TimeZone <its IANA name> (the offset {AppClockReading.Show(reading.Measured)} now).";
        }
        else
        {
            var ahead = reading.Measured > TimeSpan.Zero ? "ahead of" : "behind";
            found = $"the store's rows have their accessed column {AppClockReading.Span(reading.Measured)} (hours:minutes) {ahead} the UTC _accessed_time their sessions hold " +
                $"(the median of {reading.Sessions} session(s)), which no time zone explains (zones lie within UTC-12:00 and UTC+14:00, on quarter hours)";
            fix = "Either the app server's clock was wrong when they were written, or the rows were changed afterwards: check the server's clock (timedatectl) and a few rows' accessed values against their _accessed_time.";
        }

        if (refuse)
        {
            throw new BeakerException("AppTimeZoneMismatch", BeakerErrorKind.InvalidArgument,
                $"Nothing was removed from {store.Description}: {found}. A cutoff in the wrong zone would remove sessions that are still in use. {fix}");
        }

        WriteWarning($"{store.Description}: {found}, so the -Timeout filter may be off by {AppClockReading.Span(reading.Measured - reading.Expected)}. {fix}");
    }

    /// <summary>
    /// Opens the store (read-only unless <paramref name="writable"/>), writing its notes as verbose output and, unless
    /// <paramref name="quiet"/> (a first pass that only counts), per-file problems of file stores as warnings and errors.
    /// </summary>
    protected ISessionStore OpenStore(SessionSettings settings, bool writable = false, bool quiet = false)
    {
        var store = SessionStoreFactory.Open(settings, new StoreOptions(WriteVerbose, writable, AppTimeZone, quiet ? null : WriteProblem, WriteWarning, CancellationToken));
        WriteVerbose($"Store: {store.Description}.");
        return store;
    }

    /// <summary>One file of a file store: a link left alone is a warning, a file that cannot be removed an error.</summary>
    private void WriteProblem(StoreProblem problem) => Write(() =>
    {
        if (problem.IsError)
        {
            var record = new ErrorRecord(new IOException(Said(problem.Message)), problem.ErrorId, ErrorCategory.WriteError, problem.Path);
            record.CategoryInfo.TargetName = ScreenText.Escape(problem.Path);
            base.WriteError(record);
        }
        else
        {
            base.WriteWarning(Said(problem.Message));
        }
    });

    /// <summary>Throws a core failure as a terminating error with its stable id.</summary>
    protected void ThrowTerminating(BeakerException ex, object? target)
    {
        ThrowTerminatingError(ToErrorRecord(ex, target));
    }
}
