# SQLite databases in WAL mode (apps that set journal_mode=WAL), listed by a user who may read them but not write
# their folder: pwsh runs without CAP_DAC_OVERRIDE, so that root is held to the file modes as another user is.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # Lists the store as a user bound by the file modes; returns the session count and any error ids.
    function Get-CountWithoutWriteAccess([string] $Db) {
        $script = "`$n = @(Get-BeakerSession -Url 'sqlite:///$Db' -Timeout 0 -ErrorVariable bad -ErrorAction SilentlyContinue).Count; " +
            "'COUNT ' + `$n; `$bad | Where-Object { `$_.FullyQualifiedErrorId -notlike 'Session*' } | ForEach-Object { 'ERROR ' + `$_.FullyQualifiedErrorId + ' ' + `$_.Exception.Message }"
        (Invoke-ModuleScript $script -Unprivileged).Lines
    }
}

Describe 'Get-BeakerSession on a SQLite database in WAL mode' {
    BeforeEach {
        $script:Dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        $null = New-BeakerFixture $script:Dir
        $script:Db = Join-Path $script:Dir 'sessions.db'
        $sessions = @(Get-BeakerSession -Url "sqlite:///$script:Db" -Timeout 0 -ErrorAction SilentlyContinue)
        $script:Rows = $sessions.Count
        $script:First = $sessions[0].BeakerId
        /usr/bin/python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); assert c.execute('PRAGMA journal_mode = WAL').fetchone()[0] == 'wal'; c.close()" $script:Db
        $LASTEXITCODE | Should -Be 0
    }

    It 'lists every session from a folder it may not write, and leaves the folder as it was' {
        $before = @(Get-ChildItem $script:Dir -Name | Sort-Object)
        chmod 0555 $script:Dir
        try { $output = Get-CountWithoutWriteAccess $script:Db }
        finally { chmod 0755 $script:Dir }
        $output | Where-Object { $_ -like 'ERROR *' } | Should -BeNullOrEmpty
        $output | Should -Contain "COUNT $script:Rows"
        @(Get-ChildItem $script:Dir -Name | Sort-Object) | Should -Be $before
    }

    It 'leaves no -wal or -shm file behind where it may write' {
        $before = @(Get-ChildItem $script:Dir -Name | Sort-Object)
        @(Get-BeakerSession -Url "sqlite:///$script:Db" -Timeout 0 -ErrorAction SilentlyContinue).Count | Should -Be $script:Rows
        @(Get-ChildItem $script:Dir -Name | Sort-Object) | Should -Be $before
    }

    It 'reads what the running app has not checkpointed yet, from a folder it may not write' {
        $ready = Join-Path $TestDrive "ready-$([guid]::NewGuid().ToString('n'))"
        $stop = "$ready.stop"
        $holder = Join-Path $TestDrive 'wal_app.py'
        @'
import os, sqlite3, sys, time
db, ready, stop, id = sys.argv[1:5]
c = sqlite3.connect(db, isolation_level=None)
c.execute('PRAGMA wal_autocheckpoint = 0')
c.execute('DELETE FROM beaker_cache WHERE namespace = ?', (id,))
open(ready, 'w').close()
deadline = time.time() + 60
while not os.path.exists(stop) and time.time() < deadline:
    time.sleep(0.05)
'@ | Set-Content $holder
        $app = Start-Process /usr/bin/python3 -PassThru -ArgumentList $holder, $script:Db, $ready, $stop, $script:First
        try {
            $deadline = (Get-Date).AddSeconds(30)
            while (-not (Test-Path $ready)) { if ($app.HasExited -or (Get-Date) -gt $deadline) { throw 'The app process did not start.' }; Start-Sleep -Milliseconds 50 }
            Test-Path "$script:Db-wal" | Should -BeTrue
            chmod 0555 $script:Dir
            try { $output = Get-CountWithoutWriteAccess $script:Db }
            finally { chmod 0755 $script:Dir }
        }
        finally {
            New-Item -ItemType File $stop | Out-Null
            $null = $app.WaitForExit(30000)
        }
        $output | Where-Object { $_ -like 'ERROR *' } | Should -BeNullOrEmpty
        $output | Should -Contain "COUNT $($script:Rows - 1)"
    }
}
