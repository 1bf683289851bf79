#Requires -Version 7.4
<#
.SYNOPSIS
    The file-store part of build.ps1 -Task Bench: listing and cleaning a tree of session files (type = file)
    against find -delete on an identical copy. Appends its table to out/bench/results.md and prints it.
.DESCRIPTION
    find <tree> -name '*.cache' -mmin +N -delete is what operators run today (Beaker's docs suggest it); it
    removes only the session files, not their lock files or empty folders, so the two do not do the same work:
    the table says what each removed. Each figure is the median of -Runs runs, every run a new process.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleDir,
    [Parameter(Mandatory)] [string] $OutDir,
    [int] $Runs = 3,
    [int] $Sessions = 100000,
    [ValidateSet('Realistic', 'Uniform')] [string[]] $Shapes = @('Realistic', 'Uniform')
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

. (Join-Path $PSScriptRoot 'BenchCommon.ps1')
$benchStore = Join-Path $PSScriptRoot 'bench_store.py'
$work = New-Item -ItemType Directory -Force (Join-Path $OutDir 'stores')

function New-Ini([string] $DataDir) {
    $ini = Join-Path $work "$(Split-Path -Leaf $DataDir).ini"
    "[app:main]`nbeaker.session.type = file`nbeaker.session.data_dir = $DataDir`n" | Set-Content $ini
    $ini
}

function Measure-FileStore([string] $Shape) {
    $data = Join-Path $work "files-$($Shape.ToLowerInvariant())-$Sessions"
    Remove-Item -Recurse -Force $data -ErrorAction Ignore
    Write-Host "Writing $Sessions $($Shape.ToLowerInvariant()) session files"
    $null = Measure-Native "bench_store.py write-files $Shape" /usr/bin/python3 @($benchStore, 'write-files', $data, "$Sessions", $Shape.ToLowerInvariant())
    $null = Measure-Native 'bench_store.py verify-files' /usr/bin/python3 @($benchStore, 'verify-files', $data)
    $ini = New-Ini $data

    $lists = 1..$Runs | ForEach-Object {
        $run = Measure-Pwsh "file listing $Shape" "(Get-BeakerSession '$ini' -Timeout 0 | Measure-Object).Count"
        if ([int]($run.Output | Where-Object { $_ -match '^\d+$' } | Select-Object -First 1) -ne $Sessions) { throw "File listing returned $($run.Output -join ' ')" }
        $run
    }

    $cleans = 1..$Runs | ForEach-Object {
        $ours = "$data-ours"; $theirs = "$data-find"
        Remove-Item -Recurse -Force $ours, $theirs -ErrorAction Ignore
        $null = Measure-Native 'copy' cp @('-a', $data, $ours)
        $null = Measure-Native 'copy' cp @('-a', $data, $theirs)
        $run = Measure-Pwsh "file removal $Shape" ("`$s = Remove-BeakerSession '$(New-Ini $ours)' -Timeout 15d -PassThru; 'SUMMARY ' + " +
            "(`$s | Select-Object Removed, LockFiles, Folders, @{n='Duration';e={`$_.Duration.TotalSeconds}} | ConvertTo-Json -Compress)")
        $summary = ($run.Output | Where-Object { $_ -like 'SUMMARY *' }) -replace '^SUMMARY ', '' | ConvertFrom-Json
        $find = Measure-Native 'find -delete' find @((Join-Path $theirs 'container_file'), '-name', '*.cache', '-mmin', '+21600', '-delete')
        $left = @(& find (Join-Path $ours 'container_file') -name '*.cache').Count
        $findLeft = @(& find (Join-Path $theirs 'container_file') -name '*.cache').Count
        $locksLeft = @(& find (Join-Path $theirs 'container_file_lock') -name '*.lock').Count
        Remove-Item -Recurse -Force $ours, $theirs
        [pscustomobject]@{
            Whole = $run.Seconds; Duration = $summary.Duration; Removed = $summary.Removed; LockFiles = $summary.LockFiles
            Left = $left; Find = $find.Seconds; FindRemoved = $Sessions - $findLeft; FindLocksLeft = $locksLeft
        }
    }
    Remove-Item -Recurse -Force $data

    $m = [pscustomobject]@{
        List = Get-Median $lists.Seconds; Peak = Get-Median $lists.PeakMB; Whole = Get-Median $cleans.Whole; Duration = Get-Median $cleans.Duration
        Removed = Get-Median $cleans.Removed; LockFiles = Get-Median $cleans.LockFiles; Left = Get-Median $cleans.Left
        Find = Get-Median $cleans.Find; FindRemoved = Get-Median $cleans.FindRemoved; FindLocksLeft = Get-Median $cleans.FindLocksLeft
    }
    # find runs a few seconds after the cmdlet, and a session file ages past the cutoff about every 26 s: a handful may differ.
    if ([math]::Abs($m.Removed - $m.FindRemoved) -gt 10) { throw "Remove-BeakerSession removed $($m.Removed) $Shape session files, find $($m.FindRemoved): they must agree on what is old." }
    $m
}

$measured = [ordered]@{}
foreach ($shape in $Shapes) {
    $measured[$shape] = Measure-FileStore $shape
}

function Format-Row([string] $What, [scriptblock] $Ours, [scriptblock] $Theirs) {
    '| ' + $What + ' | ' + (($measured.Values | ForEach-Object { $m = $_; (& $Ours $m) + ' | ' + (& $Theirs $m) }) -join ' | ') + ' |'
}

$lines = @(
    ''
    ('## File store (`type = file`), {0:N0} session files and their lock files, median of {1} runs' -f $Sessions, $Runs)
    ''
    ('| what | ' + (($measured.Keys | ForEach-Object { "$($_.ToLowerInvariant()): BeakerHelpers | reference" }) -join ' | ') + ' |')
    ('|---|' + (($measured.Keys | ForEach-Object { '---:|---:' }) -join '|') + '|')
    (Format-Row 'list every session: `(Get-BeakerSession files.ini -Timeout 0 \| Measure-Object).Count`, whole process' { '{0:0.00} s ({1:N0} sessions/s, peak {2:0} MB)' -f $args[0].List, ($Sessions / $args[0].List), $args[0].Peak } { '–' })
    (Format-Row 'remove sessions older than 15 days: `Remove-BeakerSession files.ini -Timeout 15d`, whole process' { '{0:0.00} s' -f $args[0].Whole } { '–' })
    (Format-Row '… of which removing (summary Duration) vs `find container_file -name ''*.cache'' -mmin +21600 -delete`' { '{0:0.00} s' -f $args[0].Duration } { '{0:0.00} s' -f $args[0].Find })
    (Format-Row 'session files removed' { '{0:N0}' -f $args[0].Removed } { '{0:N0}' -f $args[0].FindRemoved })
    (Format-Row 'lock files removed (find leaves them)' { '{0:N0}' -f $args[0].LockFiles } { '0 ({0:N0} remain)' -f $args[0].FindLocksLeft })
    ''
    'Realistic: the sessions of the realistic SQL stores (mixed key sets, lifetimes from one request to days-long logins, long-tailed payloads), each file last written at its last access. Uniform: one key set, last accessed evenly over 30 days.'
)
$results = Join-Path $OutDir 'results.md'
$lines | Add-Content $results
$lines | Write-Host
