# Hostile ini files (issue 13): each ends in a named error, in a pwsh that survives it (a stack overflow or an
# out-of-memory would end the process, which no try/catch can catch), within bounded time and memory.
BeforeDiscovery {
    $bomb = "[DEFAULT]`na0 = xxxxxxxxxx`n" + ((1..9 | ForEach-Object { "a$_ = " + ("%(a$($_ - 1))s" * 10) }) -join "`n") + "`n[app:main]`nbeaker.session.type = ext:database`nbeaker.session.url = sqlite:///x.db`n"
    $script:Cases = @(
        @{ Name = 'a pipeline whose app is itself'; Ini = "[pipeline:main]`npipeline = egg:a main`n"; Id = 'ConfigIncludeLoop' }
        @{ Name = 'a filter-app whose next is itself'; Ini = "[filter-app:main]`nnext = main`n"; Id = 'ConfigIncludeLoop' }
        @{ Name = 'two pipelines naming each other'; Ini = "[pipeline:main]`npipeline = egg:f other`n`n[pipeline:other]`npipeline = egg:g main`n"; Id = 'ConfigIncludeLoop' }
        @{ Name = 'a [DEFAULT] interpolation bomb no setting uses'; Ini = $bomb; Id = 'ConfigInterpolationTooLong' }
        @{ Name = 'an include of /dev/zero'; Ini = "[app:main]`nuse = config:/dev/zero`n"; Id = 'ConfigFileNotRegular' }
        @{ Name = 'a NUL byte in a value'; Ini = "[app:main]`nbeaker.session.url = sqlite:///a`0b.db`n"; Id = 'ConfigSyntax' }
        @{ Name = 'a 3 MB line'; Ini = "[app:main]`n" + ('k' * 3MB) + "`n"; Id = 'ConfigSyntax' }
        @{ Name = 'a 1.5 MB section name set twice'; Ini = "[$('s' * 1.5MB)]`na = 1`n[$('s' * 1.5MB)]`n"; Id = 'ConfigSyntax' }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'A hostile ini file: <Name>' -ForEach $Cases -Tag 'NoServer' {
    It 'is <Id> in a pwsh that goes on, under 500 MB' {
        $path = Join-Path $TestDrive "hostile-$([guid]::NewGuid().ToString('n')).ini"
        [IO.File]::WriteAllText($path, $Ini)
        $script = "try { Get-BeakerSession '$path' -ErrorAction Stop | Out-Null; 'LISTED' } catch { 'ERROR ' + `$_.FullyQualifiedErrorId + ' | ' + `$_.Exception.Message.Length }; 'PEAK ' + [Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64; 'ALIVE'"
        $run = Invoke-ModuleScript $script
        $output = $run.Lines
        $run.ExitCode | Should -Be 0
        $output | Should -Contain 'ALIVE'
        ($output | Where-Object { $_ -like 'ERROR *' }) | Should -Match "^ERROR $Id,BeakerHelpers\.Module\.Commands\.GetBeakerSessionCommand \| \d+$"
        [int](($output | Where-Object { $_ -like 'ERROR *' }) -replace '^.* \| ', '') | Should -BeLessThan 600
        [long](($output | Where-Object { $_ -like 'PEAK *' }) -replace 'PEAK ', '') | Should -BeLessThan 500MB
    }
}
