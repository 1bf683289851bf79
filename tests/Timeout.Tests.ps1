# -Timeout as an operator types it: PowerShell turns some forms into numbers (1.5d is a decimal literal, -5 an int),
# so the forms are typed into a script here, not passed as strings.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    # A fresh store (real Beaker), so that sessions of 30 s to 10 days of age are that old now.
    $null = New-BeakerFixture (Join-Path $TestDrive 'fresh')
    $script:Ini = Join-Path $TestDrive 'fresh/prod.ini'
}

Describe '-Timeout forms, typed as literals' {
    It 'takes <Typed> as 36 hours and says so as 36h' -ForEach @(
        @{ Typed = '1.5d' }, @{ Typed = '1d12h' }, @{ Typed = '36h' }, @{ Typed = "'1.12:00:00'" }, @{ Typed = 'PT36H' }, @{ Typed = '129600' }
    ) {
        $script = [scriptblock]::Create("Get-BeakerSession '$script:Ini' -Timeout $Typed -ErrorAction SilentlyContinue -Verbose 4>&1")
        $records = @(& $script)
        $sessions = @($records | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        ($records | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join "`n" | Should -Match '-Timeout: 36h\)'
        $sessions.Count | Should -Be @(Get-BeakerSession $script:Ini -Timeout 36h -ErrorAction SilentlyContinue).Count
        $sessions.Count | Should -BeGreaterThan 0
    }

    It 'takes 1w and P2D' {
        @(Get-BeakerSession $script:Ini -Timeout 1w -ErrorAction SilentlyContinue).Count | Should -Be @(Get-BeakerSession $script:Ini -Timeout 7d -ErrorAction SilentlyContinue).Count
        @(Get-BeakerSession $script:Ini -Timeout P2D -ErrorAction SilentlyContinue).Count | Should -Be @(Get-BeakerSession $script:Ini -Timeout 2d -ErrorAction SilentlyContinue).Count
    }

    It 'says a negative timeout is negative' {
        { Get-BeakerSession $script:Ini -Timeout -5 } | Should -Throw -ExpectedMessage '*negative*'
    }
}
