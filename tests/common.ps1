# Shared by the Pester tests: imports the built module (never bin/) and makes stores with real Beaker,
# in SQLite files or in the PostgreSQL and MariaDB servers build.ps1 started for the test run.
$script:ModuleDir = if ($env:BEAKERHELPERS_MODULE) { $env:BEAKERHELPERS_MODULE } else { Join-Path $PSScriptRoot '../out/BeakerHelpers' }
if (-not (Test-Path (Join-Path $script:ModuleDir 'BeakerHelpers.psd1'))) {
    throw "The built module is not at $script:ModuleDir. Run ./build.ps1 -Task Build first."
}
Import-Module $script:ModuleDir -Force

$script:CommittedStores = Join-Path $PSScriptRoot 'fixtures/stores'
$script:Traffic = Join-Path $PSScriptRoot 'fixtures/session_traffic.py'
$env:SQLALCHEMY_SILENCE_UBER_WARNING = '1'

$script:Pwsh = Join-Path $PSHOME 'pwsh.dll'

# Runs a script in a new pwsh that imports the built module first, as a person or a scheduler would run it: with
# -NonInteractive and no input unless -Interactive (then $InputText is the console input a prompt reads), and with
# -Unprivileged without the capabilities that let root ignore file modes (so it obeys them as the app's user does).
# Returns the output lines, the output as one text, and the exit code.
function Invoke-ModuleScript {
    param([string] $Script, [string] $InputText = '', [switch] $Interactive, [switch] $Unprivileged, [int] $Width = 1000)
    $arguments = @($script:Pwsh, '-NoProfile') + @(if (-not $Interactive) { '-NonInteractive' }) + @('-Command', "Import-Module '$script:ModuleDir'; $Script")
    $output = if ($Unprivileged) {
        $InputText | & setpriv --bounding-set=-dac_override,-dac_read_search --inh-caps=-dac_override,-dac_read_search -- dotnet @arguments 2>&1
    }
    else {
        $InputText | dotnet @arguments 2>&1
    }
    $exitCode = $LASTEXITCODE
    [pscustomobject]@{ Lines = @($output | ForEach-Object { "$_" }); Text = ($output | Out-String -Width $Width); ExitCode = $exitCode }
}

# The admin URL of the server a backend's tests use. A missing server fails the test run; it is never skipped.
function Get-ServerAdminUrl([string] $Backend) {
    $name = @{ PostgreSQL = 'BEAKERHELPERS_POSTGRES_URL'; MariaDB = 'BEAKERHELPERS_MARIADB_URL'; Redis = 'BEAKERHELPERS_REDIS_URL'; RedisCluster = 'BEAKERHELPERS_REDIS_CLUSTER_URLS'; Memcached = 'BEAKERHELPERS_MEMCACHED_URLS' }[$Backend]
    $url = [Environment]::GetEnvironmentVariable($name)
    if (-not $url) { throw "No $Backend server for the tests: $name is not set. Run the tests with ./build.ps1 -Task Test, which starts one." }
    $url
}

# Runs one of the Beaker fixture writers (tests/fixtures/<Script>) with /usr/bin/python3 into $Destination and returns
# the expected.json it wrote next to the stores: what Python itself reports about every session.
function Invoke-BeakerWriter {
    param([string] $Script, [string] $Destination, [string[]] $Arguments = @())
    $output = & /usr/bin/python3 (Join-Path $PSScriptRoot "fixtures/$Script") $Destination @Arguments 2>&1
    if ($LASTEXITCODE -ne 0) { throw "The Beaker fixture writer $Script failed: $output" }
    Get-Content -Raw (Join-Path $Destination 'expected.json') | ConvertFrom-Json -AsHashtable
}

# The file and dbm stores (make_folder_stores.py); returns expected.json.
function New-FolderStores([string] $Destination) { Invoke-BeakerWriter make_folder_stores.py $Destination }

# The stores of application objects and standard-library values (make_value_stores.py); returns expected.json.
function New-ValueStores([string] $Destination) { Invoke-BeakerWriter make_value_stores.py $Destination }

# Writes a new set of stores with the real Beaker library and returns expected.json.
function New-BeakerFixture {
    param([string] $Destination)
    (New-BeakerStore SQLite $Destination).Expected
}

# Writes the fixture stores (make_fixtures.py) into SQLite files or into new databases of the backend's
# server. Returns what the tests need: the ini files' folder, prod.ini, the URLs of the three stores, expected.json.
function New-BeakerStore {
    param([string] $Backend, [string] $Destination)
    $name = 'bh' + [guid]::NewGuid().ToString('n').Substring(0, 10)
    $arguments = @()
    if ($Backend -ne 'SQLite') { $arguments = @('--server', (Get-ServerAdminUrl $Backend), '--name', $name) }
    $expected = Invoke-BeakerWriter make_fixtures.py $Destination $arguments
    [pscustomobject]@{
        Backend = $Backend; Name = $name; Directory = $Destination; Ini = Join-Path $Destination 'prod.ini'
        Urls = $expected.urls; Expected = $expected
    }
}

# A copy of a store that a test may change: SQLite files copied, server databases cloned.
function Copy-BeakerStore {
    param($Store, [string] $Destination)
    New-Item -ItemType Directory -Force $Destination | Out-Null
    $urls = @{}
    if ($Store.Backend -eq 'SQLite') {
        Get-ChildItem $Store.Directory -File | Copy-Item -Destination $Destination
        foreach ($db in $Store.Urls.Keys) { $urls[$db] = 'sqlite:///' + (Join-Path $Destination $db) }
        $name = $Store.Name
    }
    else {
        $name = 'bh' + [guid]::NewGuid().ToString('n').Substring(0, 10)
        Invoke-BeakerTraffic clone (Get-ServerAdminUrl $Store.Backend) $Store.Name $name | Out-Null
        foreach ($file in Get-ChildItem $Store.Directory -File) {
            (Get-Content -Raw $file.FullName).Replace("/$($Store.Name)_", "/${name}_") | Set-Content -NoNewline (Join-Path $Destination $file.Name)
        }
        foreach ($db in $Store.Urls.Keys) { $urls[$db] = $Store.Urls[$db].Replace("/$($Store.Name)_", "/${name}_") }
    }
    [pscustomobject]@{
        Backend = $Store.Backend; Name = $name; Directory = $Destination; Ini = Join-Path $Destination 'prod.ini'
        Urls = $urls; Expected = $Store.Expected
    }
}

# A new empty database (or SQLite file path) for stores the test seeds itself; returns its URL.
function New-EmptyStoreUrl {
    param([string] $Backend, [string] $Directory)
    if ($Backend -eq 'SQLite') { return 'sqlite:///' + (Join-Path $Directory "$([guid]::NewGuid().ToString('n')).db") }
    $name = 'bh' + [guid]::NewGuid().ToString('n').Substring(0, 10) + '_sessions'
    Invoke-BeakerTraffic createdb (Get-ServerAdminUrl $Backend) $name
}

function Get-ExpectedRows {
    param([hashtable] $Expected, [string] $Db, [string] $Table = 'beaker_cache', [string] $Kind)
    $Expected.rows | Where-Object { $_.db -eq $Db -and $_.table -eq $Table -and (-not $Kind -or $_.kind -eq $Kind) }
}

# Runs $Command in a runspace of a new pwsh that shares its console host (as a person's session does) and stops it as
# Ctrl+C does once $StopWhen (a condition on $ps, the running PowerShell) holds or $Seconds have passed. Returns the
# child's output lines: 'ENDED BEFORE THE STOP' when the command finished by itself first, then 'STOPPED', and what the
# host showed (a stopped removal's warning reaches the host, not the warning stream).
function Invoke-StoppedCommand {
    param([string] $Command, [string] $StopWhen = '$false', [int] $Seconds = 60)
    $script = @"
`$runspace = [runspacefactory]::CreateRunspace(`$Host); `$runspace.Open()
`$ps = [powershell]::Create(); `$ps.Runspace = `$runspace
`$null = `$ps.AddScript("Import-Module '$script:ModuleDir'; $Command")
`$async = `$ps.BeginInvoke()
`$deadline = (Get-Date).AddSeconds($Seconds)
while (-not `$async.IsCompleted -and (Get-Date) -lt `$deadline -and -not ($StopWhen)) { Start-Sleep -Milliseconds 20 }
if (`$async.IsCompleted) { 'ENDED BEFORE THE STOP' }
`$ps.Stop()
'STOPPED'
"@
    dotnet $script:Pwsh -NoProfile -NonInteractive -Command $script 2>&1 | ForEach-Object { "$_" }
}

# Runs redis-py against a Redis store: $Code sees the client as c and prints its result as JSON.
function Invoke-Redis([string] $Url, [string] $Code) {
    $output = & /usr/bin/python3 -c "import json, sys, redis; c = redis.StrictRedis.from_url(sys.argv[1]); print(json.dumps($Code))" $Url 2>&1
    if ($LASTEXITCODE -ne 0) { throw "redis-py failed: $output" }
    $output | ConvertFrom-Json
}

# Runs session_traffic.py (a Beaker app's saves and loads, and the test's own reads; see its docstring).
function Invoke-BeakerTraffic {
    $output = & /usr/bin/python3 $script:Traffic @args 2>&1
    if ($LASTEXITCODE -ne 0) { throw "session_traffic.py $($args[0]) failed: $output" }
    $output
}

# Every namespace in a table, read through SQLAlchemy (not by the module under test), sorted.
function Get-StoredId {
    param([string] $Url, [string] $Table = 'beaker_cache')
    @(Invoke-BeakerTraffic ids $Url $Table | ConvertFrom-Json) | Sort-Object
}

# What proves a store unchanged: the file's bytes for SQLite, every row's columns for a server.
function Get-StoreFingerprint {
    param($Store, [string] $Db = 'sessions.db', [string] $Table = 'beaker_cache')
    if ($Store.Backend -eq 'SQLite') { return (Get-FileHash ($Store.Urls[$Db] -replace '^sqlite:///', '')).Hash }
    Invoke-BeakerTraffic digest $Store.Urls[$Db] $Table
}

# Runs $Action while a real Beaker process (session_traffic.py write) keeps loading and saving the live sessions of
# $Ids in $Store. Returns the action's output, the writer's report (saves, times, errors) and when the action ran.
function Invoke-DuringBeakerWrites {
    param([string] $Store, [string] $Ids, [string] $Directory, [scriptblock] $Action)
    $ready = Join-Path $Directory 'ready'; $stop = Join-Path $Directory 'stop'; $result = Join-Path $Directory 'writer.json'
    $errors = Join-Path $Directory 'writer.err'
    $writer = Start-Process /usr/bin/python3 -ArgumentList $script:Traffic, write, $Store, $Ids, $ready, $stop, $result -PassThru -RedirectStandardError $errors
    try {
        $deadline = (Get-Date).AddSeconds(60)
        while (-not (Test-Path $ready)) {
            if ($writer.HasExited -or (Get-Date) -gt $deadline) { throw "The Beaker writer did not start: $(Get-Content -Raw $errors)" }
            Start-Sleep -Milliseconds 50
        }
        $began = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() / 1000
        $output = & $Action
        $ended = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() / 1000
    }
    finally {
        New-Item -ItemType File $stop -Force | Out-Null
        if (-not $writer.WaitForExit(60000)) { throw 'The Beaker writer did not stop within 60 s.' }
    }
    $writes = Get-Content -Raw $result | ConvertFrom-Json
    [pscustomobject]@{
        Output = $output; Writes = $writes
        SavesDuring = @($writes.times | Where-Object { $_ -ge $began -and $_ -le $ended }).Count
    }
}
