# Shared by the Pester tests: imports the built module (never bin/) and makes fresh stores with real Beaker.
$script:ModuleDir = if ($env:BEAKERHELPERS_MODULE) { $env:BEAKERHELPERS_MODULE } else { Join-Path $PSScriptRoot '../out/BeakerHelpers' }
if (-not (Test-Path (Join-Path $script:ModuleDir 'BeakerHelpers.psd1'))) {
    throw "The built module is not at $script:ModuleDir. Run ./build.ps1 -Task Build first."
}
Import-Module $script:ModuleDir -Force

$script:CommittedStores = Join-Path $PSScriptRoot 'fixtures/stores'

# Writes a new set of stores with the real Beaker library into $Destination and returns expected.json.
function New-BeakerFixture {
    param([string] $Destination)
    $output = & /usr/bin/python3 (Join-Path $PSScriptRoot 'fixtures/make_fixtures.py') $Destination 2>&1
    if ($LASTEXITCODE -ne 0) { throw "The Beaker fixture writer failed: $output" }
    Get-Content -Raw (Join-Path $Destination 'expected.json') | ConvertFrom-Json -AsHashtable
}

function Get-ExpectedRows {
    param([hashtable] $Expected, [string] $Db, [string] $Table = 'beaker_cache', [string] $Kind)
    $Expected.rows | Where-Object { $_.db -eq $Db -and $_.table -eq $Table -and (-not $Kind -or $_.kind -eq $Kind) }
}

$script:Traffic = Join-Path $PSScriptRoot 'fixtures/session_traffic.py'

# Runs session_traffic.py (a Beaker app's saves and loads, see its docstring) and returns its output.
function Invoke-BeakerTraffic {
    $output = & /usr/bin/python3 $script:Traffic @args 2>&1
    if ($LASTEXITCODE -ne 0) { throw "session_traffic.py $($args[0]) failed: $output" }
    $output
}

# A copy of a fresh fixture folder (stores and ini files), so each test may change its stores.
function Copy-BeakerFixture {
    param([string] $From, [string] $To)
    New-Item -ItemType Directory -Force $To | Out-Null
    Get-ChildItem $From -File | Copy-Item -Destination $To
    $To
}

# Every namespace in a SQLite table, read by Python's sqlite3 (not by the module under test), sorted.
function Get-StoredId {
    param([string] $Db, [string] $Table = 'beaker_cache')
    @(Invoke-BeakerTraffic ids $Db $Table | ConvertFrom-Json) | Sort-Object
}
