# The module as users install it: the package build.ps1 -Task Package made (out/package), installed with
# Install-PSResource from a local repository into a home of its own, upgraded in place, and the release archive
# unzipped into a module folder. Every pwsh here starts without the repository's files on its module path.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:PackageDir = Join-Path (Split-Path $script:ModuleDir) 'package'
    $script:Version = [version](Import-PowerShellDataFile (Join-Path $script:ModuleDir 'BeakerHelpers.psd1')).ModuleVersion
    $script:Nupkg = Join-Path $script:PackageDir "BeakerHelpers.$script:Version.nupkg"
    $script:Archive = Join-Path $script:PackageDir "BeakerHelpers-$script:Version.zip"

    # Runs $Script in a new pwsh whose home (user modules, PSResourceGet's repository list) is $HomeDir and whose module
    # path is pwsh's default for that home, or $ModulePath. Returns its output lines; a failure in it throws.
    function Invoke-Isolated([string] $HomeDir, [string] $Script, [string] $ModulePath) {
        $saved = $env:HOME, $env:XDG_DATA_HOME, $env:XDG_CONFIG_HOME, $env:LOCALAPPDATA, $env:PSModulePath
        # Publish-PSResource's NuGet writes NuGet/NuGet.Config into the current folder: the home is the place for it.
        Push-Location $HomeDir
        try {
            $env:HOME = $HomeDir
            $env:XDG_DATA_HOME = $env:XDG_CONFIG_HOME = $env:LOCALAPPDATA = $null
            $env:PSModulePath = if ($ModulePath) { $ModulePath } else { $null }
            $output = dotnet $script:Pwsh -NoProfile -NonInteractive -Command "`$ErrorActionPreference = 'Stop'; $Script" 2>&1 | ForEach-Object { "$_" }
            if ($LASTEXITCODE -ne 0) { throw "The isolated pwsh failed (exit $LASTEXITCODE): $($output -join "`n")" }
            $output
        }
        finally {
            Pop-Location
            $env:HOME, $env:XDG_DATA_HOME, $env:XDG_CONFIG_HOME, $env:LOCALAPPDATA, $env:PSModulePath = $saved
        }
    }

    # A Redis database of the test server the other test files do not use.
    $script:RedisDatabase = 60

    # Lists and cleans a fresh SQLite store and a fresh Redis store real Beaker wrote, with whatever 'Import-Module
    # BeakerHelpers' finds: each store's libraries must be in the package.
    function Test-InstalledModule([string] $HomeDir, [string] $ModulePath) {
        $store = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        $expected = New-BeakerFixture $store
        $ini = Join-Path $store 'prod.ini'
        $listed = @(Get-BeakerSession $ini -Timeout 0 -ErrorAction SilentlyContinue).Count
        $redis = "$(Get-ServerAdminUrl Redis)/$script:RedisDatabase"
        $null = Invoke-Redis $redis 'c.flushdb()'
        Invoke-BeakerTraffic seed-empty $redis (Join-Path $store 'redis-ids.json') | Out-Null
        $redisIds = Get-Content -Raw (Join-Path $store 'redis-ids.json') | ConvertFrom-Json
        $output = Invoke-Isolated $HomeDir ("Import-Module BeakerHelpers; `$m = Get-Module BeakerHelpers; 'MODULE ' + `$m.Version + ' ' + `$m.ModuleBase; " +
            "'LISTED ' + @(Get-BeakerSession '$ini' -Timeout 0 -ErrorAction SilentlyContinue).Count; " +
            "'REMOVED ' + (Remove-BeakerSession '$ini' -Timeout 8h -PassThru).Removed; " +
            "'REDIS ' + @(Get-BeakerSession -Url '$redis' -Timeout 0).Count; " +
            "'REDISREMOVED ' + (Remove-BeakerSession -Url '$redis' -Timeout 1h -PassThru).Removed") $ModulePath
        [pscustomobject]@{
            Module = ($output | Where-Object { $_ -like 'MODULE *' }) -replace '^MODULE ', ''
            Listed = [int](($output | Where-Object { $_ -like 'LISTED *' }) -replace '^LISTED ', '')
            Removed = [int](($output | Where-Object { $_ -like 'REMOVED *' }) -replace '^REMOVED ', '')
            ExpectedListed = $listed
            ExpectedRemoved = @(Get-ExpectedRows $expected 'sessions.db' | Where-Object { $_.age_seconds -gt 28800 }).Count
            RedisListed = [int](($output | Where-Object { $_ -like 'REDIS *' }) -replace '^REDIS ', '')
            RedisRemoved = [int](($output | Where-Object { $_ -like 'REDISREMOVED *' }) -replace '^REDISREMOVED ', '')
            RedisExpectedListed = @($redisIds.PSObject.Properties.Value | ForEach-Object { $_ }).Count
            RedisExpectedRemoved = @($redisIds.old_empty).Count + @($redisIds.old_full).Count
        }
    }
}

Describe 'The package' {
    It 'holds the module, the native SQLite of every platform the README names, and nothing else' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead($script:Nupkg)
        try { $entries = @($zip.Entries.FullName | ForEach-Object { [uri]::UnescapeDataString($_) }) } finally { $zip.Dispose() }
        foreach ($rid in 'linux-x64', 'linux-arm64', 'win-x64', 'win-arm64', 'osx-x64', 'osx-arm64') {
            $native = if ($rid -like 'win-*') { 'e_sqlite3.dll' } elseif ($rid -like 'osx-*') { 'libe_sqlite3.dylib' } else { 'libe_sqlite3.so' }
            $entries | Should -Contain "lib/runtimes/$rid/native/$native"
        }
        $entries | Should -Contain 'BeakerHelpers.psd1'
        $entries | Should -Contain 'BeakerHelpers.dll'
        $entries | Should -Contain 'en-US/BeakerHelpers.dll-Help.xml'
        $entries | Should -Contain 'lib/StackExchange.Redis.dll'
        $entries | Where-Object { $_ -match '(^|/)tests/|\.pdb$|\.Tests\.ps1$|fixtures' } | Should -BeNullOrEmpty
        $module = @($entries | Where-Object { $_ -notmatch '^(_rels/|package/|\[Content_Types\]\.xml$|BeakerHelpers\.nuspec$)' })
        $module | Sort-Object | Should -Be (@(Get-ChildItem $script:ModuleDir -Recurse -File | ForEach-Object { [IO.Path]::GetRelativePath($script:ModuleDir, $_.FullName).Replace('\', '/') }) | Sort-Object)
    }

    It 'carries what the Gallery shows: version, tags, links and the CHANGELOG entry as release notes' {
        $zip = [IO.Compression.ZipFile]::OpenRead($script:Nupkg)
        try { [xml]$nuspec = [IO.StreamReader]::new(($zip.Entries | Where-Object FullName -eq 'BeakerHelpers.nuspec').Open()).ReadToEnd() } finally { $zip.Dispose() }
        $nuspec.package.metadata.version | Should -Be "$script:Version"
        $nuspec.package.metadata.tags -split ' ' | Should -Contain 'PSEdition_Core'
        foreach ($tag in 'Windows', 'Linux', 'MacOS') { $nuspec.package.metadata.tags -split ' ' | Should -Contain $tag }
        $nuspec.package.metadata.projectUrl | Should -Not -BeNullOrEmpty
        $nuspec.package.metadata.licenseUrl | Should -Not -BeNullOrEmpty
        $changelog = Get-Content -Raw (Join-Path $PSScriptRoot '../CHANGELOG.md')
        $entry = [regex]::Match($changelog, "(?ms)^## $([regex]::Escape("$script:Version"))\s*\n(.*?)(?=^## |\z)")
        $entry.Success | Should -BeTrue -Because 'CHANGELOG.md has an entry for the version'
        $nuspec.package.metadata.releaseNotes.Trim() | Should -Be $entry.Groups[1].Value.Trim()
        (Test-ModuleManifest (Join-Path $script:ModuleDir 'BeakerHelpers.psd1')).Version | Should -Be $script:Version
        [Reflection.AssemblyName]::GetAssemblyName((Join-Path $script:ModuleDir 'BeakerHelpers.dll')).Version | Should -Be ([version]"$script:Version.0")
        [Reflection.AssemblyName]::GetAssemblyName((Join-Path $script:ModuleDir 'lib/BeakerHelpers.Core.dll')).Version | Should -Be ([version]"$script:Version.0")
    }
}

Describe 'Installing from the package' {
    BeforeAll {
        $script:UserHome = New-Item -ItemType Directory (Join-Path $TestDrive 'home')
        $script:Repository = New-Item -ItemType Directory (Join-Path $TestDrive 'repository')
        Copy-Item $script:Nupkg $script:Repository
    }

    It 'installs with Install-PSResource into the user''s scope, imports in a fresh pwsh, and lists and cleans a real store' {
        $installed = Invoke-Isolated $script:UserHome ("Register-PSResourceRepository -Name Local -Uri '$script:Repository' -Trusted; " +
            "Install-PSResource BeakerHelpers -Repository Local -Scope CurrentUser; (Get-InstalledPSResource BeakerHelpers -Scope CurrentUser).Version.ToString()")
        $installed | Should -Contain "$script:Version"
        $run = Test-InstalledModule $script:UserHome
        $run.Module | Should -Be "$script:Version $(Join-Path $script:UserHome ".local/share/powershell/Modules/BeakerHelpers/$script:Version")"
        $run.Listed | Should -BeGreaterThan 0
        $run.Listed | Should -Be $run.ExpectedListed
        $run.Removed | Should -Be $run.ExpectedRemoved
        $run.RedisListed | Should -Be $run.RedisExpectedListed
        $run.RedisRemoved | Should -Be $run.RedisExpectedRemoved
    }

    It 'upgrades in place to the next version, which then loads' {
        $next = [version]::new($script:Version.Major, $script:Version.Minor, $script:Version.Build + 1)
        $staged = New-Item -ItemType Directory (Join-Path $TestDrive 'next/BeakerHelpers')
        Copy-Item (Join-Path $script:ModuleDir '*') $staged -Recurse
        $manifest = Join-Path $staged 'BeakerHelpers.psd1'
        (Get-Content -Raw $manifest) -replace "ModuleVersion\s*=\s*'[^']+'", "ModuleVersion        = '$next'" | Set-Content -NoNewline $manifest
        $null = Invoke-Isolated $script:UserHome "Publish-PSResource -Path '$staged' -Repository Local"
        $versions = Invoke-Isolated $script:UserHome ("Update-PSResource BeakerHelpers -Repository Local -Scope CurrentUser; " +
            "Get-InstalledPSResource BeakerHelpers -Scope CurrentUser | ForEach-Object { 'INSTALLED ' + `$_.Version }")
        $versions | Should -Contain "INSTALLED $next"
        $run = Test-InstalledModule $script:UserHome
        $run.Module | Should -Be "$next $(Join-Path $script:UserHome ".local/share/powershell/Modules/BeakerHelpers/$next")"
        $run.Removed | Should -Be $run.ExpectedRemoved
    }
}

Describe 'The release archive' {
    It 'unzipped into a module folder, imports in a fresh pwsh and lists a real store' {
        $modules = New-Item -ItemType Directory (Join-Path $TestDrive 'archive-modules')
        Expand-Archive $script:Archive -DestinationPath $modules
        Test-Path (Join-Path $modules 'BeakerHelpers/BeakerHelpers.psd1') | Should -BeTrue
        $run = Test-InstalledModule (New-Item -ItemType Directory (Join-Path $TestDrive 'archive-home')) $modules.FullName
        $run.Module | Should -Be "$script:Version $(Join-Path $modules 'BeakerHelpers')"
        $run.Listed | Should -Be $run.ExpectedListed
        $run.Removed | Should -Be $run.ExpectedRemoved
        $run.RedisListed | Should -Be $run.RedisExpectedListed
        $run.RedisRemoved | Should -Be $run.RedisExpectedRemoved
    }
}
