# What a person finds with Get-Help and Tab: the about topic, default values, related links, examples from the basic
# job up, and completion of -TimeZone, the #section of an ini file and -Prefix.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Store = New-BeakerStore SQLite (Join-Path $TestDrive 'store')

    function Complete([string] $Line) {
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches
    }
}

Describe 'Help' {
    It 'has an about_BeakerHelpers topic on settings, stores, time zones, encryption, scheduling and safety' {
        $about = Get-Help about_BeakerHelpers | Out-String
        foreach ($section in 'SETTINGS', 'STORE TYPES', 'TIME ZONES', 'ENCRYPTION', 'SCHEDULING', 'SAFETY') {
            $about | Should -Match "(?m)^\s*$section\s*$"
        }
        $about | Should -Match 'Remove-BeakerSession -ConfigPath /srv/app/production.ini -Timeout 2d'
    }

    It 'links <_> to the about topic and the other cmdlets' -ForEach 'ConvertFrom-BeakerCookie', 'Get-BeakerSession', 'Measure-BeakerSession', 'Remove-BeakerSession', 'Test-BeakerConfiguration' {
        $name = $_
        $links = @((Get-Help $name -Full).relatedLinks.navigationLink.linkText)
        $links | Should -Contain 'about_BeakerHelpers'
        $others = @('ConvertFrom-BeakerCookie', 'Get-BeakerSession', 'Measure-BeakerSession', 'Remove-BeakerSession', 'Test-BeakerConfiguration' | Where-Object { $_ -ne $name })
        $others.Count | Should -Be 4
        foreach ($other in $others) { $links | Should -Contain $other }
        $links | Should -Not -Contain $name
        # The project's address once in RELATED LINKS, not as both the link's text and its address.
        $text = Get-Help $name -Full | Out-String -Width 300
        ([regex]::Matches($text, 'https://github\.com/BeakerHelpers/BeakerHelpers')).Count | Should -Be 1
    }

    It 'shows default values, from the code or from where the setting comes' {
        (Get-Help Get-BeakerSession -Parameter Prefix).defaultValue | Should -Be 'beaker.session'
        (Get-Help Get-BeakerSession -Parameter TableName).defaultValue | Should -Be 'beaker_cache'
        (Get-Help Get-BeakerSession -Parameter Timeout).defaultValue | Should -Match 'timeout from the ini file'
        (Get-Help Remove-BeakerSession -Parameter BatchSize).defaultValue | Should -Match '5000'
        (Get-Help Get-BeakerSession -Parameter ConfigPath).globbing | Should -Be 'true'
        (Get-Help Get-BeakerSession -Parameter LiteralPath).globbing | Should -Be 'false'
    }

    It 'begins Get-BeakerSession''s examples with the basic listing' {
        (Get-Help Get-BeakerSession -Examples).examples.example[0].code | Should -Be 'Get-BeakerSession prod.ini'
    }
}

Describe 'Argument completion' {
    It 'completes -TimeZone with the zones this machine knows' {
        $found = @(Complete 'Get-BeakerSession x.ini -TimeZone Europe/Vil')
        $found.CompletionText | Should -Contain 'Europe/Vilnius'
        @(Complete 'Remove-BeakerSession x.ini -TimeZone ut').CompletionText | Should -Contain 'UTC'
    }

    It 'completes the #section of an ini file with its app names' {
        $multi = Join-Path $script:Store.Directory 'multi.ini'
        $expected = @(Select-String -Path $multi -Pattern '^\[(?:app|composite|pipeline|filter-app):([^\]]+)\]' | ForEach-Object { $_.Matches[0].Groups[1].Value.Trim() })
        $expected.Count | Should -BeGreaterThan 1
        $found = @(Complete "Get-BeakerSession '$multi#")
        @($found.ListItemText | ForEach-Object { ($_ -split '#')[-1] }) | Should -Be $expected
        @(Complete "Measure-BeakerSession -LiteralPath '$multi#$($expected[0])").Count | Should -BeGreaterOrEqual 1
    }

    It 'completes -Prefix with the prefixes the ini file''s settings use' {
        $ini = Join-Path $script:Store.Directory 'prod.ini'
        @(Complete "Get-BeakerSession -ConfigPath '$ini' -Prefix ").CompletionText | Should -Contain 'beaker.session'
        @(Complete "Get-BeakerSession -ConfigPath '$ini' -Prefix zzz").Count | Should -Be 0
    }

    It 'leaves file names to PowerShell before any #' {
        Push-Location $script:Store.Directory
        try { @(Complete 'Get-BeakerSession pro').CompletionText | Should -Contain './prod.ini' }
        finally { Pop-Location }
    }
}
