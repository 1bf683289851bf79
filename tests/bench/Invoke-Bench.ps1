#Requires -Version 7.4
<#
.SYNOPSIS
    The benchmark of build.ps1 -Task Bench: speed and memory of the built module against references
    measured in the same run. Writes out/bench/results.md and prints it.
.DESCRIPTION
    Called by build.ps1 after it built the module, installed the prerequisites and started the servers
    (their admin URLs in BEAKERHELPERS_POSTGRES_URL / BEAKERHELPERS_MARIADB_URL). Each figure is the
    median of -Runs runs, every run a new process (start-up included), as an operator runs the cmdlets.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleDir,
    [Parameter(Mandatory)] [string] $OutDir,
    [int] $Runs = 3,
    [int[]] $Sizes = @(10000, 100000, 1000000),
    # Realistic: written as Beaker writes a real table (creation order, rows updated in place, mixed key sets, long-tailed
    # payloads; bench_store.py write-realistic). Uniform: one key set, rows in access order (the stores of 0.5.2 and before).
    # The listing is measured on both; the other parts on the first.
    [ValidateSet('Realistic', 'Uniform')] [string[]] $Shapes = @('Realistic', 'Uniform'),
    # How the caller started the servers (build.ps1 -BenchServerMemory), for the report.
    [string] $ServerMemory = 'Default',
    [ValidateSet('SQLite', 'PostgreSQL', 'MariaDB')] [string[]] $Backends = @('SQLite', 'PostgreSQL', 'MariaDB'),
    [ValidateSet('Listing', 'Generous', 'Removal', 'Startup', 'WarmUp', 'Decode', 'Load', 'Measure', 'Empty', 'Redis', 'Memcached')] [string[]] $Parts = @('Listing', 'Generous', 'Removal', 'Startup', 'WarmUp', 'Decode', 'Load', 'Measure', 'Empty', 'Redis', 'Memcached'),
    # Reuse SQLite stores an earlier run wrote into -OutDir (when Beaker still loads a sample of them).
    [switch] $KeepStores
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
. (Join-Path $PSScriptRoot '../common.ps1')
. (Join-Path $PSScriptRoot 'BenchCommon.ps1')
. (Join-Path $PSScriptRoot 'LoadBench.ps1')

$benchStore = Join-Path $PSScriptRoot 'bench_store.py'
$reference = Join-Path $PSScriptRoot 'reference_listing.py'
$work = New-Item -ItemType Directory -Force (Join-Path $OutDir 'stores')

function New-BenchStore([string] $Backend, [int] $Count, [string] $Shape) {
    $name = if ($Shape -eq 'Realistic') { "real-$Count.db" } else { "bench-$Count.db" }
    $url = if ($Backend -eq 'SQLite') { 'sqlite:///' + (Join-Path $work $name) } else { New-EmptyStoreUrl $Backend $work }
    if ($Backend -eq 'SQLite' -and $KeepStores -and (Test-Path ($url -replace '^sqlite:///', ''))) {
        $null = Measure-Native 'bench_store.py verify' /usr/bin/python3 @($benchStore, 'verify', $url)
        return $url
    }
    if ($Backend -eq 'SQLite') { Remove-Item ($url -replace '^sqlite:///', '') -ErrorAction Ignore }
    Write-Host "Writing $Count $($Shape.ToLowerInvariant()) sessions to $Backend"
    $null = Measure-Native "bench_store.py $Shape" /usr/bin/python3 @($benchStore, $(if ($Shape -eq 'Realistic') { 'write-realistic' } else { 'write' }), $url, "$Count")
    $null = Measure-Native 'bench_store.py verify' /usr/bin/python3 @($benchStore, 'verify', $url)
    $url
}

function Copy-BenchStore([string] $Backend, [string] $Url) {
    if ($Backend -eq 'SQLite') {
        $copy = Join-Path $work "copy-$([guid]::NewGuid().ToString('n')).db"
        Copy-Item ($Url -replace '^sqlite:///', '') $copy
        sync  # a copy's dirty pages would otherwise be written by the first fsync of whatever runs on it next
        return 'sqlite:///' + $copy
    }
    $source = ($Url -split '/')[-1] -replace '_sessions$', ''
    $target = 'bh' + [guid]::NewGuid().ToString('n').Substring(0, 10)
    $null = Measure-Native 'clone' /usr/bin/python3 @($script:Traffic, 'clone', (Get-ServerAdminUrl $Backend), $source, $target)
    $Url.Replace("/${source}_sessions", "/${target}_sessions")
}

# One SQL statement through the database's own command-line client, timed.
function Invoke-Cli([string] $Backend, [string] $Url, [string] $Sql, [string] $What) {
    switch ($Backend) {
        # The CLI fails at once on a lock the app holds unless told to wait, as an app's own connection does.
        'SQLite' { Measure-Native "sqlite3 $What" sqlite3 @('-cmd', '.timeout 30000', ($Url -replace '^sqlite:///', ''), $Sql) }
        'PostgreSQL' {
            $u = [uri]($Url -replace '^[a-z0-9+]+://', 'http://')
            $env:PGPASSWORD = [uri]::UnescapeDataString($u.UserInfo.Split(':')[1])
            try { Measure-Native "psql $What" psql @('-h', $u.Host, '-p', "$($u.Port)", '-U', [uri]::UnescapeDataString($u.UserInfo.Split(':')[0]), '-d', $u.AbsolutePath.Trim('/'), '-c', $Sql) }
            finally { Remove-Item Env:PGPASSWORD }
        }
        'MariaDB' {
            $u = [uri]($Url -replace '^[a-z0-9+]+://', 'http://')
            $env:MYSQL_PWD = [uri]::UnescapeDataString($u.UserInfo.Split(':')[1])
            try { Measure-Native "mariadb $What" mariadb @('--no-defaults', '-h', $u.Host, '-P', "$($u.Port)", '-u', [uri]::UnescapeDataString($u.UserInfo.Split(':')[0]), $u.AbsolutePath.Trim('/'), '-e', $Sql) }
            finally { Remove-Item Env:MYSQL_PWD }
        }
    }
}

function Format-Stamp([string] $Backend, [datetime] $At) {
    $At.ToString($(if ($Backend -eq 'MariaDB') { 'yyyy-MM-dd HH:mm:ss' } else { 'yyyy-MM-dd HH:mm:ss.ffffff' }), [Globalization.CultureInfo]::InvariantCulture)
}

# The raw DELETE through the database's own command-line client, on an identical copy.
function Invoke-RawDelete([string] $Backend, [string] $Url, [datetime] $Cutoff) {
    Invoke-Cli $Backend $Url "DELETE FROM beaker_cache WHERE accessed < '$(Format-Stamp $Backend $Cutoff)'" 'DELETE'
}

# The aggregate a person would write for Measure-BeakerSession's figures (count, bytes, oldest and newest, the buckets).
function Invoke-RawAggregate([string] $Backend, [string] $Url) {
    $now = Get-Date
    $since = foreach ($age in [timespan]::FromDays(15), [timespan]::FromHours(1), [timespan]::FromDays(1), [timespan]::FromDays(7), [timespan]::FromDays(30)) {
        "sum(CASE WHEN accessed >= '$(Format-Stamp $Backend ($now - $age))' THEN 1 ELSE 0 END)"
    }
    Invoke-Cli $Backend $Url "SELECT count(*), sum(length(data)), max(length(data)), min(accessed), max(accessed), $($since -join ', ') FROM beaker_cache" 'aggregate'
}

$rows = [Collections.Generic.List[string]]::new()
$stores = @{}
$allStores = @{}
foreach ($backend in $backends) {
    foreach ($size in $Sizes) {
        foreach ($shape in $Shapes | Where-Object { $_ -eq $Shapes[0] -or 'Listing' -in $Parts }) {
            $allStores["$backend/$shape/$size"] = New-BenchStore $backend $size $shape
        }
        $stores["$backend/$size"] = $allStores["$backend/$($Shapes[0])/$size"]
    }
}

# (1) and (2): listing every session, whole process, against the Python reference; peak working set; on each shape of store.
$listing = @{}
foreach ($backend in $backends | Where-Object { 'Listing' -in $Parts }) {
    foreach ($key in $Sizes | ForEach-Object { $size = $_; $Shapes | ForEach-Object { "$_/$size" } }) {
        $shape, $size = $key -split '/'; $size = [int]$size
        $url = $allStores["$backend/$key"]
        $ours = 1..$Runs | ForEach-Object {
            $run = Measure-Pwsh "listing $backend $size" "(Get-BeakerSession -Url '$url' -Timeout 0 | Measure-Object).Count"
            if ([int]($run.Output | Where-Object { $_ -match '^\d+$' } | Select-Object -First 1) -ne $size) { throw "Listing $backend $size returned $($run.Output -join ' ')" }
            $run
        }
        $python = 1..$Runs | ForEach-Object { Measure-Native "reference $backend $size" /usr/bin/python3 @($reference, $url) }
        $listing["$backend/$key"] = [pscustomobject]@{
            Seconds = Get-Median $ours.Seconds; PeakMB = Get-Median $ours.PeakMB; Python = Get-Median $python.Seconds
        }
        Write-Host ("listing {0} {1} {2}: {3:0.00} s, {4:0} MB; Python {5:0.00} s" -f $backend, $shape, $size, $listing["$backend/$key"].Seconds, $listing["$backend/$key"].PeakMB, $listing["$backend/$key"].Python)
    }
}

$largest = ($Sizes | Measure-Object -Maximum).Maximum

# (3): removing about half of the largest store, against one raw DELETE with the same cutoff.
$removal = @{}
foreach ($backend in $backends | Where-Object { 'Removal' -in $Parts }) {
    $results = 1..$Runs | ForEach-Object {
        $copy = Copy-BenchStore $backend $stores["$backend/$largest"]
        $run = Measure-Pwsh "removal $backend" "`$s = Remove-BeakerSession -Url '$copy' -Timeout 15d -PassThru; 'SUMMARY ' + (`$s | Select-Object Removed, Batches, @{n='Longest';e={`$_.LongestBatch.TotalSeconds}}, @{n='Duration';e={`$_.Duration.TotalSeconds}}, @{n='Cutoff';e={`$_.Cutoff.ToString('o')}} | ConvertTo-Json -Compress)"
        $summary = ($run.Output | Where-Object { $_ -like 'SUMMARY *' }) -replace '^SUMMARY ', '' | ConvertFrom-Json
        $rawCopy = Copy-BenchStore $backend $stores["$backend/$largest"]
        $raw = Invoke-RawDelete $backend $rawCopy ([datetime]::Parse($summary.Cutoff, [Globalization.CultureInfo]::InvariantCulture, 'RoundtripKind'))
        if ($backend -eq 'SQLite') { Remove-Item ($copy -replace '^sqlite:///', ''), ($rawCopy -replace '^sqlite:///', '') }
        [pscustomobject]@{ Whole = $run.Seconds; Duration = $summary.Duration; Longest = $summary.Longest; Removed = $summary.Removed; Raw = $raw.Seconds }
    }
    $removal[$backend] = [pscustomobject]@{
        Whole = Get-Median $results.Whole; Duration = Get-Median $results.Duration; Longest = ($results.Longest | Measure-Object -Maximum).Maximum
        Removed = Get-Median $results.Removed; Raw = Get-Median $results.Raw
    }
    Write-Host ("removal {0}: {1:0.00} s ({2:0.00} s removing), raw {3:0.00} s, longest batch {4:0.000} s" -f $backend, $removal[$backend].Whole, $removal[$backend].Duration, $removal[$backend].Raw, $removal[$backend].Longest)
}

# (4): Import-Module and the first session of a 10-session store, against bare pwsh.
if ('Startup' -in $Parts) {
$tiny = Join-Path $work 'tiny.db'
Remove-Item $tiny -ErrorAction Ignore
$null = Measure-Native 'tiny store' /usr/bin/python3 @($benchStore, 'write', "sqlite:///$tiny", '10')
# Bare pwsh and the module alternately, so that whatever else the machine does (a server's vacuum after the removal
# part) weighs on both alike.
$first = [Collections.Generic.List[double]]::new()
$bare = [Collections.Generic.List[double]]::new()
foreach ($run in 1..($Runs + 2)) {
    $bare.Add((Measure-Bare))
    $first.Add((Measure-Pwsh 'first result' "Get-BeakerSession -Url 'sqlite:///$tiny' -Timeout 0 | Select-Object -First 1 | Out-Null").Seconds)
}
$startup = [pscustomobject]@{ First = Get-Median $first; Bare = Get-Median $bare }
}

# (4b): the warm-up. Issue 18's figures, whole process against bare pwsh and the Python reference: 10 k sessions,
# 100 k sessions, -Timeout 2d on the largest store (about 1/15 of it); and one fresh process that lists the
# 100 k store three times, timing the import, the first session (store open and the first rows read ahead), and
# each listing, so that the first listing's extra cost over a warm one shows.
$warmUp = $null
if ('WarmUp' -in $Parts -and $stores.ContainsKey('SQLite/100000')) {
    $mid = $stores['SQLite/100000']
    $floorDir = Join-Path $OutDir 'floor'
    $null = Measure-Native 'building PipelineFloor' dotnet @('build', (Join-Path $PSScriptRoot 'PipelineFloor/PipelineFloor.csproj'), '-c', 'Release', '-o', $floorDir, '--nologo', '-v', 'quiet')
    $floorModule = Join-Path $floorDir 'PipelineFloor.dll'
    $figures = [ordered]@{}
    $bares = [Collections.Generic.List[double]]::new()
    foreach ($case in @(
            @{ Name = '10 k sessions into Measure-Object'; Size = 10000; Timeout = $null }
            @{ Name = '100 k sessions into Measure-Object'; Size = 100000; Timeout = $null }
            @{ Name = ('-Timeout 2d on {0:N0} rows' -f $largest); Size = $largest; Timeout = 172800 })) {
        if (-not $stores.ContainsKey("SQLite/$($case.Size)")) { continue }
        $url = $stores["SQLite/$($case.Size)"]
        $timeout = if ($case.Timeout) { '2d' } else { '0' }
        $pythonArgs = @($reference, $url) + @(if ($case.Timeout) { "$($case.Timeout)" })
        # PowerShell's own cost of the same number of objects through the same pipeline (tests/bench/PipelineFloor).
        $floorCount = if ($case.Timeout) { [int](Invoke-Cli 'SQLite' $url "SELECT count(*) FROM beaker_cache WHERE accessed >= '$(Format-Stamp 'SQLite' ((Get-Date).AddSeconds(-$case.Timeout)))'" 'count').Output[0] } else { $case.Size }
        $ours = [Collections.Generic.List[double]]::new(); $python = [Collections.Generic.List[double]]::new(); $floor = [Collections.Generic.List[double]]::new(); $bare = [Collections.Generic.List[double]]::new()
        $inside = [Collections.Generic.List[double]]::new()
        # The four alternately, run after run, for the same reason as above.
        foreach ($run in 1..$Runs) {
            $bare.Add((Measure-Bare))
            $ours.Add((Measure-Pwsh "warm-up $($case.Name)" "(Get-BeakerSession -Url '$url' -Timeout $timeout | Measure-Object).Count").Seconds)
            $python.Add((Measure-Native "reference $($case.Name)" /usr/bin/python3 $pythonArgs).Seconds)
            $floor.Add((Measure-Native "floor $($case.Name)" dotnet @($pwsh, '-NoProfile', '-NonInteractive', '-Command', "Import-Module '$floorModule'; (Get-FloorItem $floorCount | Measure-Object).Count")).Seconds)
            # The operator's wait in an open pwsh: Import-Module and the first listing, timed inside the process.
            $open = Measure-Native "open pwsh $($case.Name)" dotnet @($pwsh, '-NoProfile', '-NonInteractive', '-Command',
                "`$c = [Diagnostics.Stopwatch]::StartNew(); Import-Module '$ModuleDir'; `$null = (Get-BeakerSession -Url '$url' -Timeout $timeout | Measure-Object).Count; 'INSIDE ' + `$c.Elapsed.TotalSeconds")
            $inside.Add([double](($open.Output | Where-Object { $_ -like 'INSIDE *' }) -replace 'INSIDE ', ''))
        }
        $bares.AddRange($bare)
        $figures[$case.Name] = [pscustomobject]@{
            Ours = Get-Median $ours; Python = Get-Median $python; AboveBare = (Get-Median $ours) - (Get-Median $bare); Floor = Get-Median $floor; FloorCount = $floorCount
            Inside = Get-Median $inside
        }
    }
    $bare = Get-Median $bares
    $split = "`$c = [Diagnostics.Stopwatch]::StartNew(); Get-BeakerSession -Url '$mid' -Timeout 0 | Select-Object -First 1 | Out-Null; 'FIRST ' + `$c.Elapsed.TotalSeconds; " +
        "foreach (`$i in 1..3) { `$c.Restart(); `$null = (Get-BeakerSession -Url '$mid' -Timeout 0 | Measure-Object).Count; 'PASS ' + `$c.Elapsed.TotalSeconds }"
    $passes = 1..$Runs | ForEach-Object {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $run = Measure-Native 'warm-up split' dotnet @($pwsh, '-NoProfile', '-NonInteractive', '-Command', "`$c = [Diagnostics.Stopwatch]::StartNew(); Import-Module '$ModuleDir'; 'IMPORT ' + `$c.Elapsed.TotalSeconds; $split")
        $values = @{}
        $values.Import = [double](($run.Output | Where-Object { $_ -like 'IMPORT *' }) -replace 'IMPORT ', '')
        $values.First = [double](($run.Output | Where-Object { $_ -like 'FIRST *' }) -replace 'FIRST ', '')
        $values.Passes = @($run.Output | Where-Object { $_ -like 'PASS *' } | ForEach-Object { [double]($_ -replace 'PASS ', '') })
        [pscustomobject]$values
    }
    $warmUp = [pscustomobject]@{
        Bare = $bare; Figures = $figures
        Import = Get-Median $passes.Import; First = Get-Median $passes.First
        Pass1 = Get-Median ($passes | ForEach-Object { $_.Passes[0] }); Pass2 = Get-Median ($passes | ForEach-Object { $_.Passes[1] }); Pass3 = Get-Median ($passes | ForEach-Object { $_.Passes[2] })
    }
    Write-Host ("warm-up: import {0:0.00} s, first session {1:0.00} s, listings {2:0.00} / {3:0.00} / {4:0.00} s" -f $warmUp.Import, $warmUp.First, $warmUp.Pass1, $warmUp.Pass2, $warmUp.Pass3)
}

# (5): the payload reader alone, µs per session, against 0.3.0's Razorvine-based reader in the same process.
$decodeDb = if ($stores.ContainsKey("SQLite/$largest")) { $stores["SQLite/$largest"] -replace '^sqlite:///', '' } else { $null }
$decodeArgs = @('run', '-c', 'Release', '--project', (Join-Path $PSScriptRoot 'DecodeBench/DecodeBench.csproj'), '--',
    '--stores', (Join-Path $PSScriptRoot '../fixtures/stores'), '--values', (Join-Path $PSScriptRoot '../fixtures/values'), '--passes', '15')
if ($decodeDb) { $decodeArgs += '--db', $decodeDb }
$decode = if ('Decode' -in $Parts) { (Measure-Native 'DecodeBench' dotnet $decodeArgs).Output | Where-Object { $_ -like '|*' } }

# (6): the cleanup next to a busy site: three real Beaker writers during the removal of about half the largest store.
$load = foreach ($backend in $backends | Where-Object { 'Load' -in $Parts }) {
    $result = Measure-CleanupUnderLoad $backend $stores["$backend/$largest"]
    Write-Host ("under load {0}: writers max {1:0.000} s ({2} errors, {3} lost); raw DELETE max {4:0.000} s ({5} errors, {6} lost)" -f $backend,
        $result.Ours.Max, $result.Ours.Errors, $result.Ours.Lost, $result.Raw.Max, $result.Raw.Errors, $result.Raw.Lost)
    $result
}

# (7): Measure-BeakerSession on the largest store against the same aggregate by the CLI; -Detailed against a listing.
$measure = @{}
foreach ($backend in $backends | Where-Object { 'Measure' -in $Parts }) {
    $url = $stores["$backend/$largest"]
    $ours = 1..$Runs | ForEach-Object { Measure-Pwsh "measure $backend" "`$null = Measure-BeakerSession -Url '$url' -Timeout 15d" }
    $raw = 1..$Runs | ForEach-Object { Invoke-RawAggregate $backend $url }
    $detailed = 1..$Runs | ForEach-Object { Measure-Pwsh "measure -Detailed $backend" "`$null = Measure-BeakerSession -Url '$url' -Timeout 15d -Detailed" }
    $listed = 1..$Runs | ForEach-Object { Measure-Pwsh "listing $backend" "`$null = Get-BeakerSession -Url '$url' -Timeout 0 | Measure-Object" }
    $bare = 1..$Runs | ForEach-Object { Measure-Bare }
    $measure[$backend] = [pscustomobject]@{
        Ours = Get-Median $ours.Seconds; Raw = Get-Median $raw.Seconds; Bare = Get-Median $bare
        Detailed = Get-Median $detailed.Seconds; Listing = Get-Median $listed.Seconds; DetailedPeakMB = Get-Median $detailed.PeakMB
    }
    Write-Host ("measure {0}: {1:0.00} s (bare pwsh {2:0.00} s), CLI aggregate {3:0.00} s; -Detailed {4:0.00} s, listing {5:0.00} s" -f $backend,
        $measure[$backend].Ours, $measure[$backend].Bare, $measure[$backend].Raw, $measure[$backend].Detailed, $measure[$backend].Listing)
}

# (8): Remove-BeakerSession -Empty on a store of the largest size where every other session is empty (a crawler's),
# against the age removal of about as many sessions (-Timeout 15d) on a copy of the same store.
$emptyRemoval = @{}
foreach ($backend in $backends | Where-Object { 'Empty' -in $Parts }) {
    $url = if ($backend -eq 'SQLite') { 'sqlite:///' + (Join-Path $work "empty-$largest.db") } else { New-EmptyStoreUrl $backend $work }
    if ($backend -ne 'SQLite' -or -not $KeepStores -or -not (Test-Path ($url -replace '^sqlite:///', ''))) {
        if ($backend -eq 'SQLite') { Remove-Item ($url -replace '^sqlite:///', '') -ErrorAction Ignore }
        Write-Host "Writing $largest sessions, every other one empty, to $backend"
        $null = Measure-Native 'bench_store.py write' /usr/bin/python3 @($benchStore, 'write', $url, "$largest", '2')
    }
    $samples = 1..$Runs | ForEach-Object {
        $copy = Copy-BenchStore $backend $url
        $ours = Measure-Pwsh "empty removal $backend" "`$s = Remove-BeakerSession -Url '$copy' -Empty -Timeout 1h -PassThru; 'SUMMARY ' + (`$s | Select-Object Removed, Empty, @{n='Duration';e={`$_.Duration.TotalSeconds}} | ConvertTo-Json -Compress)"
        $summary = ($ours.Output | Where-Object { $_ -like 'SUMMARY *' }) -replace '^SUMMARY ', '' | ConvertFrom-Json
        if ($backend -eq 'SQLite') { Remove-Item ($copy -replace '^sqlite:///', '') }
        $copy = Copy-BenchStore $backend $url
        $age = Measure-Pwsh "age removal $backend" "`$s = Remove-BeakerSession -Url '$copy' -Timeout 15d -PassThru; 'SUMMARY ' + (`$s | Select-Object Removed, @{n='Duration';e={`$_.Duration.TotalSeconds}} | ConvertTo-Json -Compress)"
        $ageSummary = ($age.Output | Where-Object { $_ -like 'SUMMARY *' }) -replace '^SUMMARY ', '' | ConvertFrom-Json
        if ($backend -eq 'SQLite') { Remove-Item ($copy -replace '^sqlite:///', '') }
        [pscustomobject]@{ Whole = $ours.Seconds; Removed = $summary.Removed; Peak = $ours.PeakMB; AgeWhole = $age.Seconds; AgeRemoved = $ageSummary.Removed }
    }
    $emptyRemoval[$backend] = [pscustomobject]@{
        Whole = Get-Median $samples.Whole; Removed = Get-Median $samples.Removed; Peak = Get-Median $samples.Peak; AgeWhole = Get-Median $samples.AgeWhole; AgeRemoved = Get-Median $samples.AgeRemoved
    }
    Write-Host ("empty removal {0}: {1:N0} in {2:0.00} s (peak {3:0} MB); age removal {4:N0} in {5:0.00} s" -f $backend, $emptyRemoval[$backend].Removed, $emptyRemoval[$backend].Whole, $emptyRemoval[$backend].Peak, $emptyRemoval[$backend].AgeRemoved, $emptyRemoval[$backend].AgeWhole)
}

# (8b): the largest realistic listing again on servers given generous memory, as many sites run them: MariaDB's buffer
# pool large enough for the whole table and a 64 MB sort buffer, PostgreSQL's work_mem 256 MB (its shared_buffers
# needs a restart; the operating system's cache holds the table). One run of each side first, untimed, so that the
# caches hold what a long-running server's would; the settings go back to the defaults afterwards. Last of the SQL
# parts, so that none of the others runs on a buffer pool InnoDB is still shrinking.
$generousSettings = @{
    MariaDB = @{ Set = 'SET GLOBAL innodb_buffer_pool_size = 2147483648; SET GLOBAL sort_buffer_size = 67108864'; Reset = 'SET GLOBAL innodb_buffer_pool_size = 134217728; SET GLOBAL sort_buffer_size = 2097152'; Said = 'innodb_buffer_pool_size 2 GB, sort_buffer_size 64 MB' }
    PostgreSQL = @{ Set = "ALTER SYSTEM SET work_mem = '256MB'"; Reset = 'ALTER SYSTEM RESET work_mem'; Said = 'work_mem 256 MB' }
}
function Invoke-AdminSql([string] $Backend, [string] $Sql) {
    $admin = Get-ServerAdminUrl $Backend
    if ($Backend -eq 'MariaDB') { $admin = $admin.TrimEnd('/') + '/mysql' }
    foreach ($statement in $Sql -split '; ') { $null = Invoke-Cli $Backend $admin $statement 'settings' }
    if ($Backend -eq 'PostgreSQL') { $null = Invoke-Cli $Backend $admin 'SELECT pg_reload_conf()' 'settings' }
}
$generous = [ordered]@{}
foreach ($backend in $backends | Where-Object { 'Generous' -in $Parts -and $_ -in $generousSettings.Keys }) {
    $url = $allStores["$backend/$($Shapes[0])/$largest"]
    Invoke-AdminSql $backend $generousSettings[$backend].Set
    try {
        $null = Measure-Pwsh "warm $backend" "(Get-BeakerSession -Url '$url' -Timeout 0 | Measure-Object).Count"
        $null = Measure-Native "warm reference $backend" /usr/bin/python3 @($reference, $url)
        $ours = 1..$Runs | ForEach-Object { Measure-Pwsh "generous listing $backend" "(Get-BeakerSession -Url '$url' -Timeout 0 | Measure-Object).Count" }
        $python = 1..$Runs | ForEach-Object { Measure-Native "generous reference $backend" /usr/bin/python3 @($reference, $url) }
    }
    finally { Invoke-AdminSql $backend $generousSettings[$backend].Reset }
    $generous[$backend] = [pscustomobject]@{ Seconds = Get-Median $ours.Seconds; PeakMB = Get-Median $ours.PeakMB; Python = Get-Median $python.Seconds; Said = $generousSettings[$backend].Said }
    Write-Host ("generous listing {0}: {1:0.00} s, {2:0} MB; Python {3:0.00} s" -f $backend, $generous[$backend].Seconds, $generous[$backend].PeakMB, $generous[$backend].Python)
}

# (9): Redis (ext:redis): listing against redis-py's SCAN + GET + pickle.loads, removal of about half against deleting
# every session key with redis-cli --scan | xargs redis-cli del (what operators do today), with Redis's own round-trip
# time measured by a client that pings every 5 ms meanwhile.
$redisBench = Join-Path $PSScriptRoot 'redis_bench.py'
$redisResults = [ordered]@{}
if ('Redis' -in $Parts) {
    $server = Get-ServerAdminUrl Redis
    $u = [uri]($server -replace '^redis://', 'http://')
    $cli = @('-h', $u.Host, '-p', "$($u.Port)")
    $env:REDISCLI_AUTH = [uri]::UnescapeDataString($u.UserInfo.TrimStart(':'))
    try {
        function Write-RedisStore([int] $Db, [int] $Count, [string] $Shape = 'Realistic') {
            $null = & redis-cli @cli -n $Db flushdb
            $null = Measure-Native "redis_bench.py write $Count $Shape" /usr/bin/python3 @($redisBench, 'write', "$server/$Db", "$Count", $Shape.ToLowerInvariant())
            "$server/$Db"
        }
        function Measure-RedisLatency([scriptblock] $Action) {
            $stop = Join-Path $work "latency-stop-$([guid]::NewGuid().ToString('n'))"; $trips = "$stop.json"
            $probe = Start-Process /usr/bin/python3 -ArgumentList $redisBench, latency, "$server/0", $stop, $trips -PassThru
            Start-Sleep -Milliseconds 500
            try { $result = & $Action } finally { New-Item -ItemType File $stop | Out-Null; $null = $probe.WaitForExit(30000) }
            $rtt = [double[]](Get-Content -Raw $trips | ConvertFrom-Json)
            [pscustomobject]@{ Result = $result; P99 = Get-Percentile $rtt 0.99; Max = Get-Percentile $rtt 1 }
        }
        foreach ($size in $Sizes | Where-Object { $_ -ge 100000 }) {
            foreach ($shape in $Shapes) {
                $url = Write-RedisStore 10 $size $shape
                $ours = 1..$Runs | ForEach-Object { Measure-Pwsh "redis listing $shape $size" "(Get-BeakerSession -Url '$url' -Timeout 0 | Measure-Object).Count" }
                $python = 1..$Runs | ForEach-Object { Measure-Native "redis reference $shape $size" /usr/bin/python3 @($redisBench, 'reference', $url) }
                $redisResults["list $size $shape"] = [pscustomobject]@{ Size = $size; Shape = $shape.ToLowerInvariant(); Ours = Get-Median $ours.Seconds; Peak = Get-Median $ours.PeakMB; Python = Get-Median $python.Seconds }
                Write-Host ("redis listing {0} {1}: {2:0.00} s, Python {3:0.00} s" -f $shape, $size, $redisResults["list $size $shape"].Ours, $redisResults["list $size $shape"].Python)
            }
        }
        # The removal runs on the first shape's store (realistic unless -Shapes says otherwise), as the SQL removals do.
        $url = Write-RedisStore 10 $largest $Shapes[0]
        $ours = Measure-RedisLatency { Measure-Pwsh 'redis removal' "`$s = Remove-BeakerSession -Url '$url' -Timeout 15d -PassThru; 'SUMMARY ' + (`$s | Select-Object Removed, @{n='Duration';e={`$_.Duration.TotalSeconds}} | ConvertTo-Json -Compress)" }
        $summary = ($ours.Result.Output | Where-Object { $_ -like 'SUMMARY *' }) -replace '^SUMMARY ', '' | ConvertFrom-Json
        $null = Write-RedisStore 10 $largest $Shapes[0]
        $raw = Measure-RedisLatency { Measure-Native 'redis-cli --scan | xargs del' sh @('-c', "redis-cli $($cli -join ' ') -n 10 --scan --pattern 'beaker_cache:*:session' | xargs -n 1000 redis-cli $($cli -join ' ') -n 10 del > /dev/null") }
        $redisResults['removal'] = [pscustomobject]@{
            Whole = $ours.Result.Seconds; Duration = $summary.Duration; Removed = $summary.Removed; P99 = $ours.P99; Max = $ours.Max
            Raw = $raw.Result.Seconds; RawP99 = $raw.P99; RawMax = $raw.Max; Shape = $Shapes[0].ToLowerInvariant()
        }
        Write-Host ("redis removal: {0:N0} in {1:0.00} s (ping max {2:0.000} s); redis-cli all in {3:0.00} s (ping max {4:0.000} s)" -f $summary.Removed, $ours.Result.Seconds, $ours.Max, $raw.Result.Seconds, $raw.Max)
        $null = & redis-cli @cli -n 10 flushdb
    }
    finally { Remove-Item Env:REDISCLI_AUTH -ErrorAction Ignore }
}

# (10): memcached (ext:memcached) on the two servers of the run: listing against python-memcached's metadump, get_multi
# and unpickling, and the removal of about half (-Timeout 15d), whole process.
$memcachedBench = Join-Path $PSScriptRoot 'memcached_bench.py'
$memcachedResults = [ordered]@{}
if ('Memcached' -in $Parts) {
    $urls = Get-ServerAdminUrl Memcached
    $ini = Join-Path $work 'memcached.ini'
    "[app:main]`nbeaker.session.type = ext:memcached`nbeaker.session.url = $urls`n" | Set-Content $ini
    function Write-MemcachedStore([int] $Count) {
        foreach ($server in $urls -split ';') {
            $hostName, $port = $server -split ':'
            $client = [Net.Sockets.TcpClient]::new($hostName, [int]$port)
            try { $stream = $client.GetStream(); $bytes = [Text.Encoding]::ASCII.GetBytes("flush_all`r`n"); $stream.Write($bytes, 0, $bytes.Length); $null = $stream.Read([byte[]]::new(64), 0, 64) } finally { $client.Dispose() }
        }
        $null = Measure-Native "memcached_bench.py write $Count" /usr/bin/python3 @($memcachedBench, 'write', $urls, "$Count")
    }
    foreach ($size in $Sizes | Where-Object { $_ -ge 100000 }) {
        Write-MemcachedStore $size
        $ours = 1..$Runs | ForEach-Object { Measure-Pwsh "memcached listing $size" "(Get-BeakerSession '$ini' -Timeout 0 | Measure-Object).Count" }
        $python = 1..$Runs | ForEach-Object { Measure-Native "memcached reference $size" /usr/bin/python3 @($memcachedBench, 'reference', $urls) }
        $memcachedResults["list $size"] = [pscustomobject]@{ Ours = Get-Median $ours.Seconds; Peak = Get-Median $ours.PeakMB; Python = Get-Median $python.Seconds }
        Write-Host ("memcached listing {0}: {1:0.00} s, Python {2:0.00} s" -f $size, $memcachedResults["list $size"].Ours, $memcachedResults["list $size"].Python)
    }
    Write-MemcachedStore $largest
    # Not $removal: that holds the SQL removal part's figures, which the report reads later.
    $memcachedRemoval = Measure-Pwsh 'memcached removal' "`$s = Remove-BeakerSession '$ini' -Timeout 15d -PassThru; 'SUMMARY ' + (`$s | Select-Object Removed, @{n='Duration';e={`$_.Duration.TotalSeconds}} | ConvertTo-Json -Compress)"
    $summary = ($memcachedRemoval.Output | Where-Object { $_ -like 'SUMMARY *' }) -replace '^SUMMARY ', '' | ConvertFrom-Json
    $memcachedResults['removal'] = [pscustomobject]@{ Whole = $memcachedRemoval.Seconds; Removed = $summary.Removed; Duration = $summary.Duration; Peak = $memcachedRemoval.PeakMB }
    Write-Host ("memcached removal: {0:N0} in {1:0.00} s" -f $summary.Removed, $memcachedRemoval.Seconds)
}

function Format-Ratio([double] $Number) { '{0:0.00}x' -f $Number }

$lines = [Collections.Generic.List[string]]::new()
$lines.Add('# BeakerHelpers benchmark')
$lines.Add('')
$lines.Add("Run $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC$(Get-Date -Format 'zzz'); $([Environment]::ProcessorCount) cores, $([math]::Round((Get-Content /proc/meminfo -TotalCount 1).Split(' ', [StringSplitOptions]::RemoveEmptyEntries)[1] / 1MB)) GiB; PowerShell $($PSVersionTable.PSVersion), .NET $([Environment]::Version); $((& /usr/bin/python3 --version) 2>&1); BeakerHelpers $((Import-PowerShellDataFile (Join-Path $ModuleDir 'BeakerHelpers.psd1')).ModuleVersion). Median of $Runs runs, each a new process. Servers' memory: $(if ($ServerMemory -eq 'Default') { 'their defaults (PostgreSQL shared_buffers 128 MB, work_mem 4 MB; MariaDB innodb_buffer_pool_size 128 MB, sort_buffer_size 2 MB)' } else { 'MariaDB buffer pool 256 MB, PostgreSQL defaults' }).")
if ('Listing' -in $Parts) {
    $lines.Add('')
    $lines.Add('## Listing: `(Get-BeakerSession -Url … -Timeout 0 | Measure-Object).Count`, whole process')
    $lines.Add('')
    $lines.Add('| store | shape | sessions | BeakerHelpers | sessions/s | peak working set | Python reference | faster by |')
    $lines.Add('|---|---|---:|---:|---:|---:|---:|---:|')
    foreach ($backend in $backends) {
        foreach ($size in $Sizes) {
            foreach ($shape in $Shapes) {
                $m = $listing["$backend/$shape/$size"]
                $lines.Add(('| {0} | {1} | {2:N0} | {3:0.00} s | {4:N0} | {5:0} MB | {6:0.00} s | {7} |' -f $backend, $shape.ToLowerInvariant(), $size, $m.Seconds, ($size / $m.Seconds), $m.PeakMB, $m.Python, (Format-Ratio ($m.Python / $m.Seconds))))
            }
        }
    }
    $lines.Add('')
    $lines.Add('Realistic: written as Beaker writes a real table (rows inserted at creation and updated in place, so in creation order; four key sets interleaved; 200 B-4 KB payloads with a long tail). Uniform: one key set, rows in access order.')
}
if ($generous.Count) {
    $lines.Add('')
    $lines.Add(('## Listing on servers with generous memory: {0:N0} {1} sessions, whole process, after one untimed run of each side' -f $largest, $Shapes[0].ToLowerInvariant()))
    $lines.Add('')
    $lines.Add('| store | server settings | BeakerHelpers | peak working set | Python reference | faster by |')
    $lines.Add('|---|---|---:|---:|---:|---:|')
    foreach ($backend in $generous.Keys) {
        $m = $generous[$backend]
        $lines.Add(('| {0} | {1} | {2:0.00} s | {3:0} MB | {4:0.00} s | {5} |' -f $backend, $m.Said, $m.Seconds, $m.PeakMB, $m.Python, (Format-Ratio ($m.Python / $m.Seconds))))
    }
}
if ('Removal' -in $Parts) {
    $lines.Add('')
    $lines.Add(('## Removal: about half of {0:N0} sessions (`Remove-BeakerSession -Timeout 15d`), against one raw DELETE with the same cutoff by the database''s CLI on an identical copy' -f $largest))
    $lines.Add('')
    $lines.Add('| store | removed | whole process | removing | raw DELETE | removing / raw | longest batch |')
    $lines.Add('|---|---:|---:|---:|---:|---:|---:|')
    foreach ($backend in $backends) {
        $m = $removal[$backend]
        $lines.Add(('| {0} | {1:N0} | {2:0.00} s | {3:0.00} s | {4:0.00} s | {5} | {6:0.000} s |' -f $backend, $m.Removed, $m.Whole, $m.Duration, $m.Raw, (Format-Ratio ($m.Duration / $m.Raw)), $m.Longest))
    }
}
if ('Startup' -in $Parts) {
    $lines.Add('')
    $lines.Add('## Start-up: `Import-Module` and the first session of a 10-session SQLite store')
    $lines.Add('')
    $lines.Add('| bare `pwsh -NoProfile -c exit` | import + first session | above bare |')
    $lines.Add('|---:|---:|---:|')
    $lines.Add(('| {0:0.00} s | {1:0.00} s | {2:0.00} s |' -f $startup.Bare, $startup.First, ($startup.First - $startup.Bare)))
}
if ($warmUp) {
    $lines.Add('')
    $lines.Add('## Warm-up: the sizes operators have, whole process, against bare `pwsh -NoProfile -c exit` and the Python reference')
    $lines.Add('')
    $lines.Add('| what | in an open pwsh (Import-Module + listing) | faster by | whole process | above bare pwsh | Python reference (whole process) | faster by | PowerShell''s floor (same count of plain objects) | BeakerHelpers above the floor |')
    $lines.Add('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    foreach ($name in $warmUp.Figures.Keys) {
        $m = $warmUp.Figures[$name]
        $lines.Add(('| {0} | {1:0.00} s | {2} | {3:0.00} s | {4:0.00} s | {5:0.00} s | {6} | {7:0.00} s ({8:N0}) | {9:0.00} s |' -f $name, $m.Inside, (Format-Ratio ($m.Python / $m.Inside)), $m.Ours, $m.AboveBare, $m.Python, (Format-Ratio ($m.Python / $m.Ours)), $m.Floor, $m.FloorCount, ($m.Ours - $m.Floor)))
    }
    $lines.Add(('| bare pwsh | | | {0:0.00} s | | | | | |' -f $warmUp.Bare))
    $lines.Add('')
    $lines.Add("The stores are the $($Shapes[0].ToLowerInvariant()) SQLite stores of the listing table.")
    $lines.Add('')
    $lines.Add('The floor is a compiled cmdlet (tests/bench/PipelineFloor) writing as many plain objects into the same `| Measure-Object`, whole process:')
    $lines.Add('what this PowerShell itself takes for the pipeline, before any store is read or any session decoded.')
    $lines.Add('')
    $lines.Add('One fresh process listing the 100 k store three times (`| Measure-Object`):')
    $lines.Add('')
    $lines.Add('| Import-Module | first session (open, first rows) | listing 1 | listing 2 | listing 3 | µs per session, 1st / 3rd | warm-up (1st - 3rd) |')
    $lines.Add('|---:|---:|---:|---:|---:|---:|---:|')
    $lines.Add(('| {0:0.00} s | {1:0.00} s | {2:0.00} s | {3:0.00} s | {4:0.00} s | {5:0.0} / {6:0.0} | {7:0.00} s |' -f $warmUp.Import, $warmUp.First, $warmUp.Pass1, $warmUp.Pass2, $warmUp.Pass3,
        ($warmUp.Pass1 * 1e6 / 100000), ($warmUp.Pass3 * 1e6 / 100000), ($warmUp.Pass1 - $warmUp.Pass3)))
}
if ('Decode' -in $Parts) {
    $lines.Add('')
    $lines.Add('## Decoding: µs per session of the payload reader alone, against 0.3.0''s (Razorvine.Pickle), median of alternating passes in one process')
    $lines.Add('')
    $decode | ForEach-Object { $lines.Add($_) }
    $lines.Add('')
    $lines.Add('0.3.0 cannot decode the application objects at all: its time there is the time it takes to fail.')
}
if ('Measure' -in $Parts) {
    $lines.Add('')
    $lines.Add(('## Measure-BeakerSession on {0:N0} sessions, whole process, against one aggregate query by the database''s CLI (count, bytes, oldest, newest, five age counts)' -f $largest))
    $lines.Add('')
    $lines.Add('| store | Measure-BeakerSession | of which above bare pwsh | CLI aggregate | ratio (above bare / CLI) | -Detailed | listing | -Detailed / listing | -Detailed peak |')
    $lines.Add('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    foreach ($backend in $backends) {
        $m = $measure[$backend]
        $lines.Add(('| {0} | {1:0.00} s | {2:0.00} s | {3:0.00} s | {4} | {5:0.00} s | {6:0.00} s | {7} | {8:0} MB |' -f $backend, $m.Ours, ($m.Ours - $m.Bare), $m.Raw,
            (Format-Ratio (($m.Ours - $m.Bare) / $m.Raw)), $m.Detailed, $m.Listing, (Format-Ratio ($m.Detailed / $m.Listing)), $m.DetailedPeakMB))
    }
}
if ('Empty' -in $Parts) {
    $lines.Add('')
    $lines.Add(('## Remove-BeakerSession -Empty -Timeout 1h on {0:N0} sessions, every other one empty, whole process, against the age removal of about as many (-Timeout 15d) on a copy' -f $largest))
    $lines.Add('')
    $lines.Add('| store | empty removed | -Empty | peak working set | removed by age | age removal | -Empty / age |')
    $lines.Add('|---|---:|---:|---:|---:|---:|---:|')
    foreach ($backend in $backends) {
        $m = $emptyRemoval[$backend]
        $lines.Add(('| {0} | {1:N0} | {2:0.00} s | {3:0} MB | {4:N0} | {5:0.00} s | {6} |' -f $backend, $m.Removed, $m.Whole, $m.Peak, $m.AgeRemoved, $m.AgeWhole, (Format-Ratio ($m.Whole / $m.AgeWhole))))
    }
}
if ('Redis' -in $Parts) {
    $lines.Add('')
    $lines.Add('## Redis (ext:redis), whole process')
    $lines.Add('')
    $lines.Add('| what | BeakerHelpers | reference | faster by | Redis round trips meanwhile (p99 / max) |')
    $lines.Add('|---|---:|---:|---:|---:|')
    foreach ($name in $redisResults.Keys | Where-Object { $_ -like 'list *' }) {
        $m = $redisResults[$name]
        $lines.Add(('| list {0:N0} {1} sessions into Measure-Object (peak {2:0} MB) vs redis-py SCAN + GET + pickle.loads | {3:0.00} s | {4:0.00} s | {5} | |' -f $m.Size, $m.Shape, $m.Peak, $m.Ours, $m.Python, (Format-Ratio ($m.Python / $m.Ours))))
    }
    if ($redisResults.Contains('removal')) {
        $m = $redisResults['removal']
        $lines.Add(('| remove the {0:N0} {9} sessions older than 15 days (removing: {1:0.00} s) vs redis-cli --scan \| xargs redis-cli del of every session | {2:0.00} s | {3:0.00} s | {4} | {5:0.0} / {6:0.0} ms vs {7:0.0} / {8:0.0} ms |' -f $m.Removed, $m.Duration, $m.Whole, $m.Raw, (Format-Ratio ($m.Raw / $m.Whole)), ($m.P99 * 1000), ($m.Max * 1000), ($m.RawP99 * 1000), ($m.RawMax * 1000), $m.Shape))
    }
}
if ('Memcached' -in $Parts) {
    $lines.Add('')
    $lines.Add('## memcached (ext:memcached), two servers, whole process')
    $lines.Add('')
    $lines.Add('| what | BeakerHelpers | peak working set | reference | faster by |')
    $lines.Add('|---|---:|---:|---:|---:|')
    foreach ($name in $memcachedResults.Keys | Where-Object { $_ -like 'list *' }) {
        $m = $memcachedResults[$name]
        $lines.Add(('| list {0:N0} sessions into Measure-Object vs python-memcached metadump + get_multi + unpickling | {1:0.00} s | {2:0} MB | {3:0.00} s | {4} |' -f [int]($name -replace 'list ', ''), $m.Ours, $m.Peak, $m.Python, (Format-Ratio ($m.Python / $m.Ours))))
    }
    if ($memcachedResults.Contains('removal')) {
        $m = $memcachedResults['removal']
        $lines.Add(('| remove the {0:N0} realistic sessions older than 15 days (removing: {1:0.00} s) | {2:0.00} s | {3:0} MB | | |' -f $m.Removed, $m.Duration, $m.Whole, $m.Peak))
    }
}
if ('Load' -in $Parts) {
    $lines.Add('')
    $lines.Add(('## Next to a busy site: {0} real Beaker processes load and save their sessions while about half of {1:N0} sessions go (one run each; waits are whole requests, load and save)' -f $WriterCount, $largest))
    $lines.Add('')
    Format-LoadTable $load | ForEach-Object { $lines.Add($_) }
}

$results = Join-Path $OutDir 'results.md'
$lines | Set-Content $results
Get-Content $results | Write-Host
