# A removal that fails for a lasting reason says what to fix, not "run again": a SQLite database this user may read
# but not write (pwsh runs without CAP_DAC_OVERRIDE, so that root is held to the file modes as the app's user is).
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
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
            $script = "try { Remove-BeakerSession '$script:Store/prod.ini' -Timeout 8h -ErrorAction Stop; 'REMOVED' } catch { 'ERROR ' + `$_.FullyQualifiedErrorId + ' | ' + `$_.CategoryInfo.Category + ' | ' + `$_.Exception.Message }"
            $output = (Invoke-ModuleScript $script -Unprivileged).Lines
        }
        finally {
            chmod 0755 $script:Store
            chmod 0644 $db
        }
        $line = $output | Where-Object { $_ -like 'ERROR *' }
        $line | Should -Match '^ERROR RemovalFailed,BeakerHelpers\.Module\.Commands\.RemoveBeakerSessionCommand \| PermissionDenied \|'
        $line | Should -Match 'Nothing was removed from'
        $line | Should -Match "will not help until '.*sessions\.db' is writable for this user"
        $line | Should -Not -Match 'running the command again is safe'
        (Get-FileHash $db).Hash | Should -Be $before
    }
}

Describe 'Remove-BeakerSession while another connection holds the SQLite write lock' {
    It 'says what it waits for and for how long, then removes once the lock is free' {
        $store = Join-Path $TestDrive 'locked'
        $expected = New-BeakerFixture $store
        $url = 'sqlite:///' + (Join-Path $store 'sessions.db')
        $ready = Join-Path $store 'locked.ready'
        # A process that holds the write lock for 3 s, as an app in a long transaction would.
        $holder = Start-Process /usr/bin/python3 -ArgumentList (Join-Path $PSScriptRoot 'fixtures/session_traffic.py'), lock, $url, 3, $ready -PassThru
        try {
            for ($i = 0; -not (Test-Path $ready) -and $i -lt 100; $i++) { Start-Sleep -Milliseconds 100 }
            Test-Path $ready | Should -BeTrue
            $summary = Remove-BeakerSession (Join-Path $store 'prod.ini') -Timeout 2d -PassThru -WarningVariable said -WarningAction SilentlyContinue
        }
        finally {
            $holder.WaitForExit(30000) | Out-Null
        }
        $said[0] | Should -Match "Waiting for the write lock on '.*sessions\.db': another connection holds it.*Giving up after 30 s\."
        $said[-1] | Should -Match 'Got the write lock on .* after \d+ s; removing goes on\.'
        $summary.Removed | Should -Be @(Get-ExpectedRows $expected 'sessions.db' | Where-Object age_seconds -gt (2 * 86400)).Count
    }
}
