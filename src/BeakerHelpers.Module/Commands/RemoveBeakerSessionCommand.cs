using System.Diagnostics;
using System.Management.Automation;
using BeakerHelpers.Core;
using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Payload;
using BeakerHelpers.Core.Removal;
using BeakerHelpers.Core.Sessions;
using BeakerHelpers.Core.Stores;
using BeakerHelpers.Module.Output;

namespace BeakerHelpers.Module.Commands;

/// <summary>
/// Deletes old sessions (last accessed before now − timeout) or the sessions given by id, in the database,
/// in short batches. Never prompts under default preferences: it is meant for scheduled tasks.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "BeakerSession", DefaultParameterSetName = ConfigParameterSet,
    SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(BeakerRemovalSummary))]
public sealed class RemoveBeakerSessionCommand : BeakerCommandBase
{
    private const string PipelineParameterSet = "Pipeline";
    private const int ProgressActivityId = 0x6265;
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>The store being cleaned and the sessions removed from it so far, for the warning Ctrl+C leaves.</summary>
    private (string Store, long Removed, long Total)? _running;

    /// <summary>Stores finished before the current one, with what they removed.</summary>
    private readonly List<(string Store, long Removed)> _finished = new();

    /// <summary>Ids piped in or given, per store description, in arrival order without repeats.</summary>
    private readonly Dictionary<string, (BeakerStoreInfo? Store, List<string> Ids, HashSet<string> Seen)> _idsByStore = new(StringComparer.Ordinal);

    /// <summary>The app's paste.deploy ini files; wildcards allowed; 'file.ini#name' selects [app:name].</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ConfigParameterSet)]
    [Alias("Path", "Config")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ConfigSectionCompleter))]
    public string[]? ConfigPath { get; set; }

    /// <summary>The same, taken as written: no wildcards.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralParameterSet)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ConfigSectionCompleter))]
    public string[]? LiteralPath { get; set; }

    /// <summary>
    /// Session ids to remove whatever their age. Sessions from Get-BeakerSession bind by their BeakerId; files piped
    /// (Get-ChildItem *.ini) are ini files, not ids (<see cref="PipedFileTransformationAttribute"/>).
    /// </summary>
    [Parameter(ParameterSetName = ConfigParameterSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = LiteralParameterSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = UrlParameterSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = PipelineParameterSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("BeakerId")]
    [ValidateNotNullOrEmpty]
    [PipedFileTransformation]
    public string[]? Id { get; set; }

    /// <summary>
    /// The store a piped session came from (its BeakerStore property). Sessions read back with Import-Clixml have none
    /// that can be used: give -ConfigPath or -Url with them.
    /// </summary>
    [Parameter(ParameterSetName = PipelineParameterSet, ValueFromPipelineByPropertyName = true)]
    [Alias("BeakerStore")]
    public BeakerStoreInfo? Store { get; set; }

    protected override string[]? ConfigPaths => ConfigPath;

    protected override string[]? LiteralPaths => _pipedFile != null ? new[] { _pipedFile } : LiteralPath;

    /// <summary>The ini file that came through the pipeline for the current record, if a file came.</summary>
    private string? _pipedFile;

    protected override bool LiteralGiven => _pipedFile != null || base.LiteralGiven;

    /// <summary>
    /// Rows per delete statement and transaction. Without it, batches start at 5000 rows and grow or shrink so
    /// that each takes about 0.6 s: the write lock is held under a second, and the per-batch cost is spread.
    /// </summary>
    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int BatchSize { get; set; } = 5000;

    /// <summary>
    /// Removes only the sessions the app stored nothing in (nothing but Beaker's own keys), older than the timeout: the
    /// visits of crawlers and health checks, which can go sooner than real sessions.
    /// </summary>
    [Parameter(ParameterSetName = ConfigParameterSet)]
    [Parameter(ParameterSetName = LiteralParameterSet)]
    [Parameter(ParameterSetName = UrlParameterSet)]
    public SwitchParameter Empty { get; set; }

    /// <summary>Emit one summary per store.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>
    /// Whether the sessions to remove are given (with -Id, or through the pipeline) rather than chosen by age. Before
    /// any input is bound, pipeline input counts as ids; ini files piped (Get-ChildItem *.ini) bind to -LiteralPath
    /// instead and are cleaned by age as they come (<see cref="_pipedFiles"/>).
    /// </summary>
    private bool GivenIds => _idsByStore.Count > 0 ||
        (!_pipedFiles && (ParameterSetName == PipelineParameterSet || MyInvocation.BoundParameters.ContainsKey(nameof(Id)) || MyInvocation.ExpectingInput));

    /// <summary>Ini files came through the pipeline (-LiteralPath by their PSPath): each is cleaned by age as it comes.</summary>
    private bool _pipedFiles;

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        if (MyInvocation.ExpectingInput && !MyInvocation.BoundParameters.ContainsKey(nameof(Id)))
        {
            // What comes may be ini files rather than ids: the combinations are checked as it is bound.
            return;
        }

        RefuseIdsWith();
    }

    /// <summary>-Empty and -Timeout choose sessions themselves: neither goes with ids.</summary>
    private void RefuseIdsWith()
    {
        if (Empty && GivenIds)
        {
            ThrowTerminating(new BeakerException("EmptyWithId", BeakerErrorKind.InvalidArgument,
                "-Empty finds the empty sessions itself and cannot be combined with session ids: sessions given by id are removed whatever they hold. " +
                "Drop -Empty to remove the given sessions, or drop the ids to remove the empty old ones."), null);
        }

        if (Timeout != null && GivenIds)
        {
            ThrowTerminating(new BeakerException("TimeoutWithId", BeakerErrorKind.InvalidArgument,
                "-Timeout and session ids cannot be combined: sessions given by id are removed whatever their age. " +
                "Filter them by age before piping (Get-BeakerSession -Timeout keeps the recent ones), or drop -Id to remove by age."), Timeout);
        }
    }

    protected override void ProcessRecord()
    {
        if (Id is [var file] && PipedFileTransformationAttribute.IsFile(file))
        {
            _pipedFiles = true;
            _pipedFile = file;
            try
            {
                RemoveByAge();
            }
            finally
            {
                _pipedFile = null;
            }

            return;
        }

        if (Id == null)
        {
            return;
        }

        var key = Store?.Description ?? string.Empty;
        if (!_idsByStore.TryGetValue(key, out var group))
        {
            group = (Store, new List<string>(), new HashSet<string>(StringComparer.Ordinal));
            _idsByStore[key] = group;
        }

        foreach (var id in Id)
        {
            if (group.Seen.Add(id))
            {
                group.Ids.Add(id);
            }
        }

        // Checked once ids are here: they may follow ini files that came before them.
        if (MyInvocation.ExpectingInput)
        {
            RefuseIdsWith();
        }
    }

    protected override void EndProcessing() => Guarded(() =>
    {
        if (GivenIds)
        {
            foreach (var (_, group) in _idsByStore)
            {
                if (group.Store == null && ParameterSetName == PipelineParameterSet)
                {
                    throw new BeakerException("StoreRequired", BeakerErrorKind.InvalidArgument,
                        $"{group.Ids.Count} session id(s) came without their store ('{group.Ids[0]}'{(group.Ids.Count > 1 ? ", ..." : string.Empty)}): " +
                        "plain strings, or sessions read back with Import-Clixml, do not say which store they are in. " +
                        "Add -ConfigPath (the app's ini file) or -Url, or pipe the sessions straight from Get-BeakerSession.");
                }

                var settings = group.Store?.Settings ?? ResolveSettings();
                LearnSecrets(settings);
                RemoveIds(settings, group.Ids);
            }

            if (_idsByStore.Count == 0)
            {
                WriteVerbose("No session ids came through the pipeline; nothing was removed.");
            }

            return;
        }

        if (!_pipedFiles)
        {
            ForEachStore(Empty ? RemoveEmpty : RemoveOld);
        }
    });

    /// <summary>The ini files of -ConfigPath or -LiteralPath, each store cleaned by age (or -Empty).</summary>
    private void RemoveByAge() => Guarded(() => ForEachStore(Empty ? RemoveEmpty : RemoveOld));

    /// <summary>Runs a removal step: a core failure is the command's terminating error; Ctrl+C leaves a warning of what was done.</summary>
    private void Guarded(Action step)
    {
        try
        {
            step();
        }
        catch (BeakerException ex)
        {
            ThrowTerminating(ex, ParameterSetName == UrlParameterSet ? null : (object?)ConfigPath ?? LiteralPath);
        }
        catch (Exception ex) when ((ex is OperationCanceledException || ex is PipelineStoppedException) && CancellationToken.IsCancellationRequested)
        {
            // Ctrl+C (seen by the store, or by a progress record PowerShell refused): the batches done so far stay done.
            WarnStopped(ex as RemovalStoppedException);
            if (ex is PipelineStoppedException)
            {
                throw;
            }
        }
    }

    /// <summary>
    /// Says what a stopped removal did. The pipeline is stopping, so PowerShell refuses the warning stream; the host
    /// still shows it (a scheduled task's log gets it through the host too).
    /// </summary>
    private void WarnStopped(RemovalStoppedException? stop)
    {
        if (_running is not { } running)
        {
            return;
        }

        var removed = stop?.Removed ?? running.Removed;
        var done = string.Concat(_finished.Select(f => $"{f.Removed} from {f.Store}, "));
        var underWay = stop?.RolledBack == true
            ? "the batch under way was rolled back, whole"
            : "no batch was under way (a file session goes whole or not at all)";
        var left = removed >= running.Total
            ? $"all {running.Total} that were to go had gone."
            : "run the command again to finish.";
        var message = $"Stopped: {done}{removed} session(s) were removed from {running.Store} before the stop. The store is consistent: {underWay}; {left}";
        try
        {
            WriteWarning(message);
        }
        catch (PipelineStoppedException)
        {
            Host?.UI?.WriteWarningLine(Said(message));
        }
    }

    /// <summary>
    /// The cutoff of a removal by age and how messages say it; without a timeout, the error <paramref name="errorId"/>
    /// whose message ends with <paramref name="why"/>.
    /// </summary>
    private (DateTime Cutoff, string OlderThan) RemovalCutoff(SessionSettings settings, string errorId, string what, string why)
    {
        var age = ResolveCutoff(settings);
        if (age.Cutoff is not { } cutoff)
        {
            throw new BeakerException(errorId, BeakerErrorKind.InvalidArgument, $"{what} older than a timeout, and there is none ({age.Source}). {why}");
        }

        return (cutoff, $"last accessed before {age.Said}");
    }

    private void RemoveOld(SessionSettings settings)
    {
        var (cutoff, olderThan) = RemovalCutoff(settings, "TimeoutRequired", "Remove-BeakerSession removes sessions",
            "Removing every session is not a cleanup: it logs everyone out. Pass -Timeout (for example -Timeout 2d), or pipe the sessions to remove from Get-BeakerSession.");
        Carry(settings, reader =>
        {
            CheckAppClock(reader, settings, refuse: true);
            return RemovalPlan.ByAge(reader, cutoff, olderThan, CancellationToken);
        });
    }

    private void RemoveEmpty(SessionSettings settings)
    {
        var (cutoff, olderThan) = RemovalCutoff(settings, "EmptyTimeoutRequired", "-Empty removes the empty sessions",
            "An empty session used a moment ago is a visitor's who may still store something in it: pass a timeout shorter than the app's, for example -Timeout 1h.");
        Carry(settings, reader =>
        {
            CheckAppClock(reader, settings, refuse: true);
            var sessions = new SessionReader(settings.Decoder(), AppTimeZone);
            return RemovalPlan.EmptySessions(reader, sessions, cutoff, olderThan, settings.KeySource, CancellationToken);
        });
    }

    private void RemoveIds(SessionSettings settings, List<string> ids) =>
        Carry(settings, reader => RemovalPlan.ByIds(reader, ids, CancellationToken), quiet: false);

    /// <summary>
    /// One store's removal: the plan from a read-only look (<paramref name="plan"/>), its warnings, the question, then
    /// the removal through the store opened for writing (a wait for the app's lock is said as a warning while it lasts).
    /// </summary>
    private void Carry(SessionSettings settings, Func<ISessionStore, RemovalPlan> plan, bool quiet = true)
    {
        RemovalPlan removal;
        using (var reader = OpenStore(settings, quiet: quiet))
        {
            removal = plan(reader);
        }

        using (removal)
        {
            foreach (var warning in removal.Warnings)
            {
                WriteWarning(warning);
            }

            foreach (var missing in removal.Missing)
            {
                // As Get-BeakerSession -Id says it: an id that is not there is worth knowing, and the others still go.
                WriteError(ToErrorRecord(new BeakerException("SessionNotFound", BeakerErrorKind.NotFound,
                    $"{removal.Store} holds no session '{missing}' (the id is matched exactly; it may have been removed already or never saved)."), missing));
            }

            var result = new RemovalResult(0, 0, TimeSpan.Zero, TimeSpan.Zero);
            if (Approved(removal))
            {
                using var store = OpenStore(settings, writable: true);
                var options = new RemovalOptions(BatchSize, Adaptive: !MyInvocation.BoundParameters.ContainsKey(nameof(BatchSize)), Progress: null, CancellationToken);
                result = WithProgress(removal.Store, removal.Count, progress => removal.Execute(store, options with { Progress = progress }));
            }
            else if (removal.Count > 0)
            {
                // Declined (or -WhatIf): ShouldProcess has said what would go.
                return;
            }

            Report(new BeakerRemovalSummary(removal.Store, removal.Cutoff, removal.Cutoff == null ? null : AppTimeZone.Id, removal.Count, result, removal.Empty), removal.Outcome);
        }
    }

    /// <summary>
    /// Asks once per store, through ShouldProcess (which also says -WhatIf's "What if:"). Nothing to remove asks nothing
    /// and is said in -Verbose; a folder store may have old lock files to remove even without old sessions.
    /// </summary>
    private bool Approved(RemovalPlan plan)
    {
        if (!plan.HasWork)
        {
            var nothing = plan.Cutoff == null ? $"Nothing to remove from {plan.Store}: {plan.Outcome}." : $"Nothing to remove from {plan.Store}: no session {plan.Outcome}.";
            if (WhatIfInEffect)
            {
                // -WhatIf says what would happen, also when that is nothing.
                ShouldProcess(Said(nothing), Said(nothing), "Remove-BeakerSession");
            }
            else
            {
                WriteVerbose(nothing);
            }

            return false;
        }

        return ShouldProcess(Said($"{plan.Action} from {plan.Store}."), Said($"{plan.Action} from {plan.Store}?"), "Remove-BeakerSession");
    }

    /// <summary>Whether -WhatIf (or $WhatIfPreference) is in force for this call.</summary>
    private bool WhatIfInEffect => MyInvocation.BoundParameters.TryGetValue("WhatIf", out var given)
        ? given is SwitchParameter { IsPresent: true }
        : LanguagePrimitives.IsTrue(SessionState.PSVariable.GetValue("WhatIfPreference"));

    private RemovalResult WithProgress(string store, long total, Func<Action<long>, RemovalResult> remove)
    {
        store = Said(store);
        var record = new ProgressRecord(ProgressActivityId, "Removing Beaker sessions", $"{store}: 0 of {total}");
        var clock = Stopwatch.StartNew();
        var shown = false;
        _running = (store, 0, total);
        try
        {
            var result = remove(removed =>
            {
                _running = (store, removed, total);
                if (clock.Elapsed < ProgressInterval)
                {
                    return;
                }

                clock.Restart();
                shown = true;
                record.StatusDescription = $"{store}: {removed} of {total}";
                record.PercentComplete = total > 0 ? (int)Math.Min(100, removed * 100 / total) : -1;
                WriteProgress(record);
            });
            _finished.Add((store, result.Removed));
            _running = null;
            return result;
        }
        finally
        {
            if (shown)
            {
                record.RecordType = ProgressRecordType.Completed;
                WriteProgress(record);
            }
        }
    }

    private void Report(BeakerRemovalSummary summary, string what)
    {
        WriteVerbose($"Removed {summary.Removed} session(s) {what} from {summary.Store} in {summary.Batches} batch(es) " +
            $"(longest {summary.LongestBatch.TotalSeconds:0.000} s) in {summary.Duration.TotalSeconds:0.000} s" +
            (summary.LockFiles + summary.TempFiles + summary.Folders > 0
                ? $"; also {summary.LockFiles} lock file(s), {summary.TempFiles} half-written file(s) and {summary.Folders} empty folder(s)."
                : "."));
        if (PassThru)
        {
            var output = new PSObject(summary);
            output.TypeNames.Insert(0, BeakerRemovalSummary.TypeName);
            if (summary.LockFiles + summary.TempFiles + summary.Folders > 0)
            {
                // Its own view, with the columns of what a folder store's cleanup removes besides sessions.
                output.TypeNames.Insert(0, BeakerRemovalSummary.FolderTypeName);
            }

            WriteObject(output);
        }
    }
}
