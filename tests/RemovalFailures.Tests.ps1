# A removal that fails for a lasting reason says what to fix, not "run again": a SQLite database this user may read
# but not write (pwsh runs without CAP_DAC_OVERRIDE, so that root is held to the file modes as the app's user is).
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Pwsh = Join-Path $PSHOME 'pwsh.dll'
    $script:Store = Join-Path $TestDrive 'readonly'
    $null = New-BeakerFixture $script:Store
}

Describe 'Remove-BeakerSession on a SQLite database it may not write' {
    It 'is RemovalFailed that removed nothing and says what to fix' {
        $db = Join-Path $script:Store 'sessions.db'
        $before = (Get-FileHash $db).Hash
        chmod 0444 $db
        chmod 0555 $script:Store
        try {
            $script = "Import-Module '$script:ModuleDir'; try { Remove-BeakerSession '$script:Store/prod.ini' -Timeout 8h -ErrorAction Stop; 'REMOVED' } catch { 'ERROR ' + `$_.FullyQualifiedErrorId + ' | ' + `$_.CategoryInfo.Category + ' | ' + `$_.Exception.Message }"
            $output = & setpriv --bounding-set=-dac_override,-dac_read_search --inh-caps=-dac_override,-dac_read_search -- dotnet $script:Pwsh -NoProfile -NonInteractive -Command $script 2>&1 | ForEach-Object { "$_" }
        }
        finally {
            chmod 0755 $script:Store
            chmod 0644 $db
        }
        $line = $output | Where-Object { $_ -like 'ERROR *' }
        $line | Should -Match '^ERROR RemovalFailed,BeakerHelpers\.Module\.Commands\.RemoveBeakerSessionCommand \| PermissionDenied \|'
        $line | Should -Match 'after 0 session\(s\) were removed'
        $line | Should -Match 'will not help until the database file .* and its folder are writable'
        $line | Should -Not -Match 'run the command again to finish'
        (Get-FileHash $db).Hash | Should -Be $before
    }
}
