#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests and demonstrates the BeakerHelpers module.
.DESCRIPTION
    Build  assembles the module folder out/BeakerHelpers (manifest, assemblies, native SQLite, help).
    Test   builds, runs the xunit tests of the core library, then the Pester tests against the built
           module in a child pwsh. Installs what the tests need when it is missing (as root, with apt; without
           root it says what to install). -Offline runs only what needs no server, no Python and no root.
    Demo   builds and lists the sessions of the SQLite demo store in tests/fixtures/stores.
    Bench  builds, starts the servers as Test does, and measures speed and memory against references
           (tests/bench/Invoke-Bench.ps1 for the SQL stores, Invoke-FileBench.ps1 for a file store against
           find -delete); writes out/bench/results.md. Not part of Test.
    Package builds, then makes out/package: the PowerShell Gallery package BeakerHelpers.<version>.nupkg,
           published by Publish-PSResource into that folder as a local repository, and the release archive
           BeakerHelpers-<version>.zip of the module folder. Test runs it too (the tests install both).
    Lint   checks the CI workflows (.github/workflows) with an offline workflow linter from npm (tests/lint).
    Fuzz   mutates the real payloads of tests/fixtures/stores (-FuzzCases, fixed -FuzzSeed) and feeds them to
           the decoder; fails on a crash, a hang (> 1 s) or an exception other than a per-session error.
           Writes the failing and the slowest cases to out/fuzz. Not part of Test.
.EXAMPLE
    dotnet tool restore; dotnet pwsh -NoProfile -File ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Fuzz', 'Package', 'Lint')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Use the module already in out/BeakerHelpers (the tests run the demo this way).
    [switch] $NoBuild,

    # Test: only what needs no server, no Python and no root (xunit, and the Pester suites tagged NoServer), for a
    # contributor's machine and the Windows and macOS CI jobs; it names the suites it leaves out. The README's test
    # command (without -Offline) runs everything.
    [switch] $Offline,

    # Bench: the store sizes (sessions) and the runs per figure.
    [int[]] $BenchSizes = @(10000, 100000, 1000000),
    [int] $BenchRuns = 3,
    # Bench: the servers' memory. Default: what PostgreSQL and MariaDB ship with (shared_buffers 128 MB, work_mem 4 MB;
    # innodb_buffer_pool_size 128 MB, sort_buffer_size 2 MB), as many sites run them. Generous: MariaDB's buffer pool at
    # 256 MB, as the tests run it.
    [ValidateSet('Default', 'Generous')]
    [string] $BenchServerMemory = 'Default',

    # Fuzz: how many mutated payloads, from which seed.
    [int] $FuzzCases = 100000,
    [int] $FuzzSeed = 20261201
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$root = $PSScriptRoot
$out = Join-Path $root 'out'
$moduleDir = Join-Path $out 'BeakerHelpers'
$packageDir = Join-Path $out 'package'
$nativeRids = 'linux-x64', 'linux-arm64', 'win-x64', 'win-arm64', 'osx-x64', 'osx-arm64'

# What the module folder, and so the package, must hold besides the manifest: one list, which the build checks in
# out/BeakerHelpers and the package task in the .nupkg itself. A store whose library is missing here fails the build.
$moduleMustHave = @('BeakerHelpers.dll', 'BeakerHelpers.types.ps1xml', 'BeakerHelpers.format.ps1xml', 'LICENSE', 'en-US/BeakerHelpers.dll-Help.xml', 'en-US/about_BeakerHelpers.help.txt',
    'lib/BeakerHelpers.Core.dll', 'lib/Microsoft.Data.Sqlite.dll', 'lib/SQLitePCLRaw.core.dll', 'lib/Npgsql.dll', 'lib/MySqlConnector.dll',
    'lib/StackExchange.Redis.dll', 'lib/Pipelines.Sockets.Unofficial.dll') +
    @($nativeRids | ForEach-Object { "lib/runtimes/$_/native/" + $(if ($_ -like 'win-*') { 'e_sqlite3.dll' } elseif ($_ -like 'osx-*') { 'libe_sqlite3.dylib' } else { 'libe_sqlite3.so' }) })
$pesterVersion = '5.7.1'

function Invoke-Native {
    param([string] $What, [scriptblock] $Command)
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed with exit code $LASTEXITCODE." }
}

# A fresh pwsh of the same version as this one, without profile, as a user would start it.
function Invoke-ChildPwsh {
    param([string] $Script)
    dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -Command $Script
}

# The CHANGELOG.md entry of the manifest's version becomes its ReleaseNotes (a version without an entry fails the build).
function Set-ReleaseNotes([string] $Manifest) {
    $version = (Import-PowerShellDataFile $Manifest).ModuleVersion
    $entry = [regex]::Match((Get-Content -Raw (Join-Path $root 'CHANGELOG.md')), "(?ms)^## $([regex]::Escape($version))\s*\n(.*?)(?=^## |\z)")
    if (-not $entry.Success) { throw "CHANGELOG.md has no entry '## $version' for the version in BeakerHelpers.psd1." }
    $notes = $entry.Groups[1].Value.Trim().Replace("'", "''")
    $text = Get-Content -Raw $Manifest
    if ($text -notmatch "ReleaseNotes\s*=\s*'[^']*'") { throw 'BeakerHelpers.psd1 has no ReleaseNotes to fill.' }
    [regex]::Replace($text, "ReleaseNotes\s*=\s*'[^']*'", { "ReleaseNotes = '$notes'" }) | Set-Content -NoNewline $Manifest
}

function Invoke-Build {
    $publish = Join-Path $out 'publish'
    Remove-Item -Recurse -Force $publish, $moduleDir -ErrorAction Ignore
    Invoke-Native 'dotnet publish' {
        dotnet publish (Join-Path $root 'src/BeakerHelpers.Module/BeakerHelpers.Module.csproj') -c $Configuration -o $publish --nologo -v quiet
    }

    $lib = New-Item -ItemType Directory -Force (Join-Path $moduleDir 'lib')
    Copy-Item (Join-Path $root 'BeakerHelpers.psd1') $moduleDir
    Set-ReleaseNotes (Join-Path $moduleDir 'BeakerHelpers.psd1')
    Copy-Item (Join-Path $root 'src/BeakerHelpers.Module/Module/*') $moduleDir -Recurse
    Copy-Item (Join-Path $root 'LICENSE') $moduleDir
    Copy-Item (Join-Path $publish 'BeakerHelpers.dll') $moduleDir
    Get-ChildItem $publish -Filter *.dll |
        Where-Object Name -NotIn 'BeakerHelpers.dll', 'System.Management.Automation.dll' |
        Copy-Item -Destination $lib
    foreach ($rid in $nativeRids) {
        $native = Join-Path $publish "runtimes/$rid/native"
        $target = New-Item -ItemType Directory -Force (Join-Path $lib "runtimes/$rid/native")
        Copy-Item (Join-Path $native '*') $target
    }

    New-Item -ItemType Directory -Force (Join-Path $moduleDir 'en-US') | Out-Null
    Copy-Item (Join-Path $root 'src/BeakerHelpers.Module/Help/en-US/*.help.txt') (Join-Path $moduleDir 'en-US')
    Invoke-Native 'writing the help' {
        dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -File (Join-Path $root 'src/BeakerHelpers.Module/Help/New-MamlHelp.ps1') `
            -ModuleDir $moduleDir -SourceDir (Join-Path $root 'src/BeakerHelpers.Module/Help/en-US') -Destination (Join-Path $moduleDir 'en-US/BeakerHelpers.dll-Help.xml')
    }

    $missing = @('BeakerHelpers.psd1') + $moduleMustHave | Where-Object { -not (Test-Path (Join-Path $moduleDir $_)) }
    if ($missing) { throw "The module folder lacks: $($missing -join ', ')" }
    Write-Host "Built $moduleDir"
}

function Get-Pester {
    $pester = Join-Path $root "tools/packages/pester/$pesterVersion/tools/Pester.psd1"
    if (-not (Test-Path $pester)) {
        Invoke-Native 'restoring Pester from NuGet' {
            dotnet restore (Join-Path $root 'tests/tools.proj') --packages (Join-Path $root 'tools/packages') --nologo -v quiet
        }
    }
    if (-not (Test-Path $pester)) { throw "Pester $pesterVersion was restored but $pester is missing." }
    $pester
}

function Install-TestPrerequisites {
    param([string[]] $Extra = @())
    # The tests write stores with the real Beaker library (Debian python3-beaker) into SQLite files and into
    # PostgreSQL, MariaDB and Redis servers they start themselves (Debian postgresql, mariadb-server, redis-server).
    $python = '/usr/bin/python3'
    $check = {
        & $python -c 'import beaker, sqlalchemy, psycopg2, pymysql, cryptography, Cryptodome, pytz, redis, memcache, pylibmc' 2>$null
        ($LASTEXITCODE -eq 0) -and [bool](Get-Item /usr/lib/postgresql/*/bin/postgres -ErrorAction Ignore) -and [bool](Get-Command redis-server -ErrorAction Ignore) -and
            (Test-Path /usr/sbin/mariadbd) -and [bool](Get-Command mariadb-install-db -ErrorAction Ignore) -and [bool](Get-Command memcached -ErrorAction Ignore) -and
            -not ($Extra | Where-Object { -not (Get-Command $_ -ErrorAction Ignore) })
    }
    if ((Test-Path $python) -and (& $check)) { return }
    $packages = @('python3', 'python3-beaker', 'python3-sqlalchemy', 'python3-psycopg2', 'python3-pymysql', 'python3-cryptography', 'python3-pycryptodome', 'python3-tz', 'python3-redis', 'python3-memcache', 'python3-pylibmc', 'postgresql', 'mariadb-server', 'redis-server', 'memcached') + $Extra
    $offline = 'build.ps1 -Task Test -Offline runs what needs none of them (xunit, and the Pester suites that need no server and no Python) and names what it leaves out.'
    if (-not (Get-Command apt-get -ErrorAction Ignore)) {
        throw "The tests need Debian's $($packages -join ', '), and apt-get is not here to install them. Install them with this system's package manager, or: $offline"
    }
    if ((id -u) -ne '0') {
        throw "The tests need Debian's $($packages -join ', '), and installing them needs root. Run: sudo apt-get install -y $($packages -join ' '); then run this again. Or: $offline"
    }
    Write-Host "Installing $($packages -join ', ') with apt-get"
    $env:DEBIAN_FRONTEND = 'noninteractive'
    Invoke-Native 'apt-get update' { apt-get update -qq }
    # The packages' own services are not wanted (the tests start private servers); policy-rc.d keeps them down.
    $policy = '/usr/sbin/policy-rc.d'
    $hadPolicy = Test-Path $policy
    if (-not $hadPolicy) { Set-Content $policy "#!/bin/sh`nexit 101"; chmod +x $policy }
    try { Invoke-Native 'apt-get install' { apt-get install -y -qq @packages } }
    finally { if (-not $hadPolicy) { Remove-Item $policy } }
    if (-not (& $check)) { throw "apt-get installed $($packages -join ', ') but /usr/bin/python3 or the servers are still missing." }
}

# Runs $Action with private PostgreSQL and MariaDB servers, whose admin URLs it finds in the environment.
function Invoke-WithServers([scriptblock] $Action, [string] $MariaDbBufferPool = '256M', [int] $MemcachedMegabytes = 64) {
    . (Join-Path $root 'tests/TestServers.ps1')
    $servers = @()
    try {
        $postgres = Start-TestPostgres; $servers += $postgres
        $mariadb = Start-TestMariaDb -BufferPool $MariaDbBufferPool; $servers += $mariadb
        $redis = Start-TestRedis; $servers += $redis
        $redisCluster = Start-TestRedisCluster; $servers += $redisCluster
        $memcached = Start-TestMemcached -Megabytes $MemcachedMegabytes; $servers += $memcached
        Write-Host "Servers: $(($servers | ForEach-Object { "$($_.Kind) $($_.Version) on port $($_.Port)" }) -join ', ')"
        $env:BEAKERHELPERS_POSTGRES_URL = $postgres.Url
        $env:BEAKERHELPERS_MARIADB_URL = $mariadb.Url
        $env:BEAKERHELPERS_REDIS_URL = $redis.Url
        $env:BEAKERHELPERS_REDIS_CLUSTER_URLS = $redisCluster.Url
        $env:BEAKERHELPERS_MEMCACHED_URLS = $memcached.Url
        & $Action
    }
    finally {
        foreach ($server in $servers) { Stop-TestServer $server }
        Remove-Item Env:BEAKERHELPERS_POSTGRES_URL, Env:BEAKERHELPERS_MARIADB_URL, Env:BEAKERHELPERS_REDIS_URL, Env:BEAKERHELPERS_REDIS_CLUSTER_URLS, Env:BEAKERHELPERS_MEMCACHED_URLS -ErrorAction Ignore
    }
}

function Invoke-Package {
    Invoke-Build
    $version = (Import-PowerShellDataFile (Join-Path $moduleDir 'BeakerHelpers.psd1')).ModuleVersion
    Remove-Item -Recurse -Force $packageDir -ErrorAction Ignore
    $null = New-Item -ItemType Directory $packageDir

    # Publish-PSResource publishes to a registered repository. A child pwsh with a home of its own registers the
    # folder as one there, so this user's repository list is left alone.
    $isolatedHome = New-Item -ItemType Directory -Force (Join-Path $out 'package-home')
    $saved = $env:HOME, $env:XDG_DATA_HOME, $env:LOCALAPPDATA
    # PSResourceGet's NuGet also writes a NuGet/NuGet.Config into the current folder: let that be the throwaway home.
    Push-Location $isolatedHome
    try {
        $env:HOME = $env:XDG_DATA_HOME = $env:LOCALAPPDATA = $isolatedHome.FullName
        Invoke-Native 'Publish-PSResource' {
            Invoke-ChildPwsh "`$ErrorActionPreference = 'Stop'; Register-PSResourceRepository -Name BeakerHelpersBuild -Uri '$packageDir' -Trusted; Publish-PSResource -Path '$moduleDir' -Repository BeakerHelpersBuild"
        }
    }
    finally {
        Pop-Location
        $env:HOME, $env:XDG_DATA_HOME, $env:LOCALAPPDATA = $saved
        Remove-Item -Recurse -Force $isolatedHome -ErrorAction Ignore
    }
    Compress-Archive -Path $moduleDir -DestinationPath (Join-Path $packageDir "BeakerHelpers-$version.zip")

    $nupkg = Join-Path $packageDir "BeakerHelpers.$version.nupkg"
    if (-not (Test-Path $nupkg)) { throw "Publish-PSResource made no $nupkg." }
    Add-Type -AssemblyName System.IO.Compression.FileSystem
    $zip = [IO.Compression.ZipFile]::OpenRead($nupkg)
    try { $entries = @($zip.Entries.FullName | ForEach-Object { [uri]::UnescapeDataString($_) }) } finally { $zip.Dispose() }
    $missing = $moduleMustHave | Where-Object { $_ -notin $entries }
    $stray = $entries | Where-Object { $_ -match '(^|/)tests/|\.pdb$' }
    if ($missing -or $stray) { throw "The package lacks: $($missing -join ', '); and holds what it must not: $($stray -join ', ')" }
    Get-ChildItem $packageDir -File | ForEach-Object { Write-Host ('Packaged {0} ({1:N0} KiB)' -f $_.FullName, ($_.Length / 1KB)) }
}

function Invoke-Test {
    if ($Offline) {
        Invoke-Build
        Invoke-TestSuites -Tag NoServer
        return
    }
    Invoke-Package
    Install-TestPrerequisites
    Invoke-WithServers { Invoke-TestSuites }
}

# The CI workflows checked against GitHub's workflow schema by a linter from npm that needs no network once installed
# (tests/lint/package.json pins it; npm ci installs exactly the locked versions).
function Invoke-Lint {
    if (-not (Get-Command npm -ErrorAction Ignore)) {
        throw 'The workflow linter runs on Node.js: install node and npm (Debian: apt-get install -y nodejs npm), then run this again.'
    }
    $lint = Join-Path $root 'tests/lint'
    Invoke-Native 'npm ci' { npm ci --prefix $lint --no-audit --no-fund --silent }
    foreach ($workflow in Get-ChildItem (Join-Path $root '.github/workflows') -Filter *.yml) {
        Invoke-Native "action-validator $($workflow.Name)" { & (Join-Path $lint 'node_modules/.bin/action-validator') $workflow.FullName }
        Write-Host "$($workflow.Name): valid"
    }
}

function Invoke-Bench {
    Invoke-Build
    Install-TestPrerequisites -Extra sqlite3
    $benchDir = New-Item -ItemType Directory -Force (Join-Path $out 'bench')
    Invoke-WithServers -MariaDbBufferPool $(if ($BenchServerMemory -eq 'Generous') { '256M' } else { '' }) -MemcachedMegabytes 1024 {
        $env:BEAKERHELPERS_MODULE = $moduleDir
        & (Join-Path $root 'tests/bench/Invoke-Bench.ps1') -ModuleDir $moduleDir -OutDir $benchDir -Sizes $BenchSizes -Runs $BenchRuns -ServerMemory $BenchServerMemory
        & (Join-Path $root 'tests/bench/Invoke-FileBench.ps1') -ModuleDir $moduleDir -OutDir $benchDir -Runs $BenchRuns
    }
}

function Invoke-TestSuites([string] $Tag) {
    $results = New-Item -ItemType Directory -Force (Join-Path $out 'test-results')
    $trx = Join-Path $results 'xunit.trx'
    $nunit = Join-Path $results 'pester.xml'
    Remove-Item $trx, $nunit -ErrorAction Ignore

    # Offline (-Tag NoServer), the xunit tests that need a server the run starts (Category=Server) or Python with Beaker
    # (Category=Python) are left out too.
    $filter = @()
    if ($Tag -eq 'NoServer') {
        $filter = @('--filter', 'Category!=Server&Category!=Python')
        Write-Host 'Left out: the xunit tests that need a server (Category=Server: memcached''s command sets) or Python (Category=Python: folder stores Beaker writes, pickles Python writes).'
    }
    dotnet test (Join-Path $root 'tests/BeakerHelpers.Core.Tests/BeakerHelpers.Core.Tests.csproj') -c $Configuration --nologo -v quiet `
        --logger 'console;verbosity=normal' --logger "trx;LogFileName=$trx" @filter | Out-Host
    $xunitExit = $LASTEXITCODE
    $xunit = Get-TrxCounts $trx

    $env:BEAKERHELPERS_MODULE = $moduleDir
    dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -File (Join-Path $root 'tests/Invoke-PesterRun.ps1') `
        -PesterPath (Get-Pester) -TestsPath (Join-Path $root 'tests') -ResultPath $nunit -Tag $Tag
    $pester = Get-NUnitCounts $nunit

    $passed = $xunit.Passed + $pester.Passed
    $failed = $xunit.Failed + $pester.Failed + $xunit.NotRun + $pester.NotRun
    Write-Host "xunit: $($xunit.Passed) passed, $($xunit.Failed) failed, $($xunit.NotRun) not run; Pester: $($pester.Passed) passed, $($pester.Failed) failed, $($pester.NotRun) skipped or not run"
    Write-Host "Test: $passed passed, $failed failed (results: $results)"
    if ($failed -gt 0 -or $xunitExit -ne 0 -or $passed -eq 0) { throw "Tests failed." }
}

# The counts of an xunit run, from its TRX file (a missing file fails the run: the tests did not report).
function Get-TrxCounts([string] $Path) {
    if (-not (Test-Path $Path)) { throw "The xunit run wrote no results to $Path." }
    $counters = ([xml](Get-Content -Raw $Path)).TestRun.ResultSummary.Counters
    [pscustomobject]@{ Passed = [int]$counters.passed; Failed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted; NotRun = [int]$counters.notExecuted }
}

# The counts of a Pester run, from its NUnit XML file: test cases by result, and a block whose set-up failed
# (a failed test-suite without a failed case of its own) as one failure.
function Get-NUnitCounts([string] $Path) {
    if (-not (Test-Path $Path)) { throw "The Pester run wrote no results to $Path." }
    $xml = [xml](Get-Content -Raw $Path)
    $cases = @($xml.SelectNodes('//test-case'))
    $failedSuites = @($xml.SelectNodes("//test-suite[@result='Failure' and not(.//test-case[@result='Failure' or @result='Error'])]"))
    [pscustomobject]@{
        Passed = @($cases | Where-Object { $_.executed -eq 'True' -and $_.result -eq 'Success' }).Count
        Failed = @($cases | Where-Object { $_.result -in 'Failure', 'Error' }).Count + $failedSuites.Count
        NotRun = @($cases | Where-Object { $_.executed -ne 'True' -or $_.result -in 'Ignored', 'Skipped', 'Inconclusive', 'NotRunnable' }).Count
    }
}

function Invoke-Demo {
    if (-not $NoBuild) { Invoke-Build }
    $ini = Join-Path $root 'tests/fixtures/stores/prod.ini'
    # The demo store holds rows planted to show what cannot be read: the sessions first, then one line about those rows.
    $script = "Import-Module '$moduleDir'; " +
        "`$sessions = Get-BeakerSession -ConfigPath '$ini' -Timeout 0 -ErrorVariable planted -ErrorAction SilentlyContinue; " +
        "`$sessions | Out-String -Width 160; " +
        "if (`$planted) { 'The demo store also holds ' + `$planted.Count + ' rows planted to show what the module cannot read, which it reports and goes on: ' + " +
        "((`$planted | ForEach-Object { `$_.CategoryInfo.TargetName + ' (' + (`$_.FullyQualifiedErrorId -split ',')[0] + ')' }) -join ', ') + '.' }; exit 0"
    Invoke-Native 'the demo' { Invoke-ChildPwsh $script }
}

function Invoke-Fuzz {
    $fuzzDir = Join-Path $out 'fuzz'
    Remove-Item -Recurse -Force $fuzzDir -ErrorAction Ignore
    Invoke-Native 'the fuzz run' {
        dotnet run -c Release --project (Join-Path $root 'tests/BeakerHelpers.Fuzz/BeakerHelpers.Fuzz.csproj') -- `
            --stores (Join-Path $root 'tests/fixtures/stores') --out $fuzzDir --cases $FuzzCases --seed $FuzzSeed
    }
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
    'Bench' { Invoke-Bench }
    'Fuzz' { Invoke-Fuzz }
    'Package' { Invoke-Package }
    'Lint' { Invoke-Lint }
}
