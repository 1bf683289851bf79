BeforeDiscovery {
    $script:Backends = 'SQLite', 'PostgreSQL', 'MariaDB'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:CommandId = 'BeakerHelpers.Module.Commands.RemoveBeakerSessionCommand'

    # The rows of sessions.db (all kinds: sessions, cache, corrupt, ...) older than $Seconds.
    function Get-OlderThan([double] $Seconds) {
        @(Get-ExpectedRows $script:Fresh.Expected 'sessions.db' | Where-Object { $_.age_seconds -gt $Seconds }).id | Sort-Object
    }

    # Runs a script in a new interactive pwsh whose console input is $Answer (a prompt reads it).
    function Invoke-Answered([string] $Answer, [string] $Script) {
        $run = Invoke-ModuleScript $Script -InputText $Answer -Interactive -Width 120
        [pscustomobject]@{ Output = $run.Text; ExitCode = $run.ExitCode }
    }

    # Runs a script in a new pwsh with no stdin and no terminal, as a scheduler does; returns output and exit code.
    function Invoke-Unattended([string] $Script) {
        $run = Invoke-ModuleScript $Script -Width 120
        [pscustomobject]@{ Output = $run.Text; ExitCode = $run.ExitCode }
    }
}

Describe 'Remove-BeakerSession on <_>' -ForEach $Backends {
    BeforeAll {
        $script:Backend = $_
        $script:Fresh = New-BeakerStore $script:Backend (Join-Path $TestDrive "fresh-$($script:Backend)")
    }

    BeforeEach {
        $script:Store = Copy-BeakerStore $script:Fresh (Join-Path $TestDrive ([guid]::NewGuid()))
        $script:Dir = $script:Store.Directory
        $script:Ini = $script:Store.Ini
        $script:Url = $script:Store.Urls['sessions.db']
        # How the store shows in messages: the file for SQLite, the database for a server.
        $script:StoreText = if ($script:Backend -eq 'SQLite') { $script:Url -replace '^sqlite:///', '' } else { "/$($script:Store.Name)_sessions'" }
        $script:AllIds = Get-StoredId $script:Url
    }

    Context 'by age' {
        It 'removes exactly the rows last accessed before now minus -Timeout, whatever they hold' {
            Remove-BeakerSession $script:Ini -Timeout 2d
            $gone = Get-OlderThan (2 * 86400)
            $gone.Count | Should -Be 2
            Get-StoredId $script:Url | Should -Be @($script:AllIds | Where-Object { $_ -notin $gone })
        }

        It 'takes the timeout from <prefix>.timeout when -Timeout is not given' {
            # prod.ini: beaker.session.timeout = 3600; the corrupt, encrypted and cache rows are not older than that.
            Remove-BeakerSession -ConfigPath $script:Ini
            $gone = Get-OlderThan 3600
            $gone.Count | Should -Be 6
            Get-StoredId $script:Url | Should -Be @($script:AllIds | Where-Object { $_ -notin $gone })
        }

        It 'removes corrupt, encrypted and cache rows once they are old, without decoding them' {
            Remove-BeakerSession $script:Ini -Timeout 5m
            $left = Get-StoredId $script:Url
            $left | Should -Be @(Get-ExpectedRows $script:Fresh.Expected 'sessions.db' | Where-Object age_seconds -le 300).id
            foreach ($kind in 'corrupt', 'encrypted', 'cache') {
                (Get-ExpectedRows $script:Fresh.Expected 'sessions.db' -Kind $kind).id | Should -Not -BeIn $left
            }
        }

        It 'leaves sessions that still load: the remaining ones list as before' {
            $before = Get-BeakerSession $script:Ini -Timeout 1d -ErrorAction SilentlyContinue
            Remove-BeakerSession $script:Ini -Timeout 1d -BatchSize 1
            $after = Get-BeakerSession $script:Ini -Timeout 0 -ErrorAction SilentlyContinue
            @($after.BeakerId) | Should -Be @($before.BeakerId)
            ($after | Where-Object user_name -eq 'alice@example.com').cart.items | Should -Be @('apple', 'pear')
        }

        It 'works from a -Url with -TableName on the ext:database table of another app' {
            $custom = $script:Store.Urls['custom.db']
            $all = Get-StoredId $custom 'web_sessions'
            Remove-BeakerSession -Url $custom -TableName web_sessions -Timeout 1h
            $old = @(Get-ExpectedRows $script:Fresh.Expected 'custom.db' 'web_sessions' | Where-Object age_seconds -gt 3600).id
            $old.Count | Should -BeGreaterThan 0
            Get-StoredId $custom 'web_sessions' | Should -Be @($all | Where-Object { $_ -notin $old })
        }

        It 'refuses to remove everything: -Timeout 0' {
            $hash = (Get-StoreFingerprint $script:Store)
            { Remove-BeakerSession $script:Ini -Timeout 0 } | Should -Throw -ErrorId "TimeoutRequired,$script:CommandId" -ExpectedMessage '*Pass -Timeout*'
            (Get-StoreFingerprint $script:Store) | Should -Be $hash
        }

        It 'refuses to remove everything: a URL and no timeout anywhere' {
            $hash = (Get-StoreFingerprint $script:Store)
            { Remove-BeakerSession -Url $script:Url } | Should -Throw -ErrorId "TimeoutRequired,$script:CommandId" -ExpectedMessage '*(no -Timeout)*'
            (Get-StoreFingerprint $script:Store) | Should -Be $hash
        }

        It 'computes the cutoff in the app server''s zone given by -TimeZone' {
            # Rows hold naive wall-clock times. A Beaker app in Kiritimati (UTC+14) wrote this store.
            $env:TZ = 'Pacific/Kiritimati'
            try { $kiribati = New-BeakerStore $script:Backend (Join-Path $TestDrive "kiribati-$($script:Backend)") } finally { Remove-Item Env:TZ }
            $expected = $kiribati.Expected
            $db = $kiribati.Urls['sessions.db']
            $all = Get-StoredId $db

            # Read as UTC, every row would look 14 h younger than it is: the rows themselves show the app's offset, and
            # the removal refuses the wrong zone before it removes anything.
            { Remove-BeakerSession -Url $db -Timeout 39h -TimeZone UTC } | Should -Throw -ErrorId 'AppTimeZoneMismatch,BeakerHelpers.Module.Commands.RemoveBeakerSessionCommand'
            Get-StoredId $db | Should -Be $all

            Remove-BeakerSession -Url $db -Timeout 39h -TimeZone Pacific/Kiritimati
            $old = @(Get-ExpectedRows $expected 'sessions.db' | Where-Object age_seconds -gt (39 * 3600)).id
            $old.Count | Should -BeGreaterThan 0
            Get-StoredId $db | Should -Be @($all | Where-Object { $_ -notin $old })
        }

        It 'rejects an unknown -TimeZone with the forms it takes' {
            { Remove-BeakerSession $script:Ini -Timeout 2d -TimeZone 'Mars/Olympus' } | Should -Throw -ExpectedMessage "*'Mars/Olympus' is not a time zone*IANA*"
        }
    }

    Context 'with ShouldProcess, -PassThru and -Verbose' {
        It '-WhatIf names the count and the cutoff and leaves the file byte-identical' {
            $hash = (Get-StoreFingerprint $script:Store)
            $run = Invoke-Unattended "Remove-BeakerSession '$script:Ini' -Timeout 2d -WhatIf"
            $run.ExitCode | Should -Be 0
            $run.Output | Should -Match 'What if: Remove 2 session\(s\) last accessed before \d{4}-\d\d-\d\d \d\d:\d\d:\d\d'
            $run.Output | Should -Match ([regex]::Escape($script:StoreText))
            (Get-StoreFingerprint $script:Store) | Should -Be $hash
            Get-StoredId $script:Url | Should -Be $script:AllIds
        }

        It 'never prompts under default preferences or with -Confirm:$false (no stdin, non-interactive)' -ForEach '', '-Confirm:$false' {
            $run = Invoke-Unattended "Remove-BeakerSession '$script:Ini' -Timeout 2d $_; 'exit ' + `$?"
            $run.Output | Should -Match 'exit True'
            $run.ExitCode | Should -Be 0
            Get-StoredId $script:Url | Should -Be @($script:AllIds | Where-Object { $_ -notin (Get-OlderThan (2 * 86400)) })
        }

        It '-Confirm asks once per store, with the count, and No leaves the store byte-identical' {
            $hash = (Get-StoreFingerprint $script:Store)
            $run = Invoke-Answered 'N' "Remove-BeakerSession '$script:Ini' -Timeout 2d -Confirm"
            [regex]::Matches($run.Output, 'Remove 2 session\(s\) last accessed before').Count | Should -Be 1 -Because $run.Output
            (Get-StoreFingerprint $script:Store) | Should -Be $hash

            $run = Invoke-Answered 'Y' "Get-BeakerSession '$script:Ini' -Timeout 0 -ErrorAction Ignore | Remove-BeakerSession -Confirm -PassThru | ForEach-Object { 'removed ' + `$_.Removed }"
            [regex]::Matches($run.Output, 'Remove \d+ session\(s\) given by id').Count | Should -Be 1 -Because $run.Output
            $run.Output | Should -Match 'removed 11'
            (Get-StoredId $script:Url).Count | Should -Be ($script:AllIds.Count - 11)
        }

        It 'a non-interactive run with -Confirm fails at the question and removes nothing' {
            $hash = (Get-StoreFingerprint $script:Store)
            $run = Invoke-Unattended "Remove-BeakerSession '$script:Ini' -Timeout 2d -Confirm"
            $run.Output | Should -Match 'NonInteractive'
            (Get-StoreFingerprint $script:Store) | Should -Be $hash
        }

        It '-PassThru emits one summary per store, shown as a table' {
            $summary = Remove-BeakerSession $script:Ini -Timeout 2d -BatchSize 1 -PassThru
            @($summary).Count | Should -Be 1
            $summary.pstypenames[0] | Should -Be 'BeakerHelpers.RemovalSummary'
            $summary.Removed | Should -Be 2
            $summary.Requested | Should -Be 2
            $summary.Batches | Should -Be 2
            $summary.Store | Should -Match ([regex]::Escape($script:StoreText))
            $summary.Cutoff | Should -BeOfType [datetime]
            [math]::Abs(((Get-Date).AddDays(-2) - $summary.Cutoff).TotalMinutes) | Should -BeLessThan 5
            $summary.TimeZone | Should -Be ([TimeZoneInfo]::Local.Id)
            $summary.LongestBatch | Should -BeLessOrEqual $summary.Duration
            $table = $summary | Format-Table | Out-String
            $table | Should -Match 'Cutoff\s+Requested\s+Removed\s+Batches\s+Duration\s+Store'
        }

        It 'writes nothing by default and one summary line with -Verbose' {
            $output = Remove-BeakerSession $script:Ini -Timeout 2d -Verbose 4>&1
            $lines = @($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
            @($output | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).Count | Should -Be 0
            $lines -match '^Removed 2 session\(s\) last accessed before .* in 1 batch\(es\)' | Should -HaveCount 1
        }

        It 'with nothing old, removes nothing, asks nothing and reports 0' {
            $hash = (Get-StoreFingerprint $script:Store)
            $summary = Remove-BeakerSession $script:Ini -Timeout 30d -Confirm -PassThru
            $summary.Removed | Should -Be 0
            $summary.Batches | Should -Be 0
            (Get-StoreFingerprint $script:Store) | Should -Be $hash
        }
    }

    Context 'by id' {
        It 'removes exactly the sessions piped from Get-BeakerSession, whatever their age' {
            $picked = Get-BeakerSession $script:Ini -Timeout 0 -ErrorAction SilentlyContinue | Where-Object user_name -In 'alice@example.com', 'bob@example.com', 'grace@example.com'
            $picked.Count | Should -Be 3
            $summary = $picked | Remove-BeakerSession -PassThru
            $summary.Removed | Should -Be $picked.Count
            $summary.Cutoff | Should -BeNullOrEmpty
            Get-StoredId $script:Url | Should -Be @($script:AllIds | Where-Object { $_ -notin $picked.BeakerId })
        }

        It 'takes ids with -Id, or piped as strings, and counts only those that existed' {
            $summary = Remove-BeakerSession $script:Ini -Id $script:AllIds[0], $script:AllIds[1], 'no-such-session' -PassThru -ErrorAction SilentlyContinue -ErrorVariable missing
            # The id that is not there is said, as Get-BeakerSession -Id says it; the others still go.
            @($missing).Count | Should -Be 1
            $missing[0].FullyQualifiedErrorId | Should -Be 'SessionNotFound,BeakerHelpers.Module.Commands.RemoveBeakerSessionCommand'
            $missing[0].TargetObject | Should -Be 'no-such-session'
            # Requested is what was found of the ids given.
            $summary.Requested | Should -Be 2
            $summary.Removed | Should -Be 2
            $script:AllIds[2] | Remove-BeakerSession -Url $script:Url
            Get-StoredId $script:Url | Should -Be @($script:AllIds | Select-Object -Skip 3)
        }

        It 'removes nothing when the pipeline brings nothing' {
            $hash = (Get-StoreFingerprint $script:Store)
            # prod.ini has a timeout: an empty pipeline must not fall back to removing by age.
            Get-BeakerSession $script:Ini -Timeout 0 -ErrorAction SilentlyContinue | Where-Object user_name -eq 'nobody' | Remove-BeakerSession $script:Ini
            @() | Remove-BeakerSession -ConfigPath $script:Ini
            (Get-StoreFingerprint $script:Store) | Should -Be $hash
        }

        It 'refuses -Timeout together with ids' {
            { Remove-BeakerSession $script:Ini -Id $script:AllIds[0] -Timeout 2d } | Should -Throw -ErrorId "TimeoutWithId,$script:CommandId"
            Get-StoredId $script:Url | Should -Be $script:AllIds
        }

        It '-WhatIf with piped sessions changes nothing' {
            $hash = (Get-StoreFingerprint $script:Store)
            Get-BeakerSession $script:Ini -Timeout 0 -ErrorAction SilentlyContinue | Remove-BeakerSession -WhatIf
            (Get-StoreFingerprint $script:Store) | Should -Be $hash
        }
    }

    Context 'next to a running Beaker app' {
        It 'keeps every session a live Beaker process saves meanwhile, and removes every old one (<Batches>)' -ForEach @(
            @{ Batches = '50-row batches'; Size = 50 }
            @{ Batches = 'adaptive batches'; Size = 0 }
        ) {
            $db = New-EmptyStoreUrl $script:Backend $script:Dir
            $ids = Join-Path $script:Dir 'traffic.json'
            Invoke-BeakerTraffic seed $db 30000 20 $ids | Out-Null
            $sizing = if ($Size) { @{ BatchSize = $Size } } else { @{} }
            $run = Invoke-DuringBeakerWrites $db $ids $script:Dir { Remove-BeakerSession -Url $db -Timeout 1d -PassThru @sizing }
            $summary = $run.Output
            $run.Writes.errors | Should -BeNullOrEmpty
            $run.SavesDuring | Should -BeGreaterThan 0 -Because 'the app saved sessions while the removal ran'
            $summary.Removed | Should -Be 30000
            if ($Size) { $summary.Batches | Should -Be (30000 / $Size) }
            $check = Invoke-BeakerTraffic check $db $ids | ConvertFrom-Json
            $check.missing | Should -BeNullOrEmpty
            $check.loaded | Should -Be 20
            $check.rows | Should -Be 20
        }

        It 'waits for the write lock a slow request holds instead of failing' {
            $ready = Join-Path $script:Dir 'locked'
            $holder = Start-Process /usr/bin/python3 -ArgumentList $script:Traffic, lock, $script:Url, 2, $ready -PassThru
            try {
                $deadline = (Get-Date).AddSeconds(30)
                while (-not (Test-Path $ready)) {
                    if ($holder.HasExited -or (Get-Date) -gt $deadline) { throw 'The lock holder did not start.' }
                    Start-Sleep -Milliseconds 20
                }
                $summary = Remove-BeakerSession $script:Ini -Timeout 2d -PassThru
            }
            finally {
                $holder.WaitForExit(30000) | Out-Null
            }
            $holder.ExitCode | Should -Be 0
            $summary.Removed | Should -Be 2
        }

        It 'stops between batches when the pipeline is stopped, leaving whole batches removed and a warning that counts them' {
            $db = New-EmptyStoreUrl $script:Backend $script:Dir
            Invoke-BeakerTraffic seed $db 50000 0 (Join-Path $script:Dir 'big.json') | Out-Null
            # A child pwsh stops the removal as Ctrl+C does, once it is under way; its console host shows the warning.
            $output = Invoke-StoppedCommand "Remove-BeakerSession -Url '$db' -Timeout 1d -BatchSize 10" -StopWhen '$ps.Streams.Progress.Count -gt 0'
            $output | Should -Contain 'STOPPED'
            $output | Should -Not -Contain 'ENDED BEFORE THE STOP'
            $removed = 50000 - (Get-StoredId $db).Count
            $removed | Should -BeGreaterThan 0
            $removed | Should -BeLessThan 50000
            $removed % 10 | Should -Be 0
            $warning = $output | Where-Object { $_ -match 'WARNING: Stopped: ' }
            $warning | Should -Match "Stopped: $removed session\(s\) were removed from .* before the stop\..*run the command again to finish"
        }
    }

    Context 'failures' {
        It 'ends with an error that says how many were removed when a batch fails, and a re-run finishes' {
            $old = Get-OlderThan 3600
            # Batches of one go in rowid (insertion) order; make the third old row impossible to delete.
            $ordered = @(Get-ExpectedRows $script:Fresh.Expected 'sessions.db' | Where-Object { $_.id -in $old }).id
            Invoke-BeakerTraffic trigger $script:Url $ordered[2] | Out-Null
            $caught = $null
            try { Remove-BeakerSession $script:Ini -Timeout 1h -BatchSize 1 } catch { $caught = $_ }
            $caught.FullyQualifiedErrorId | Should -Be "RemovalFailed,$script:CommandId"
            $caught.Exception.Message | Should -Match 'stopped after 2 session\(s\) were removed in 2 batch\(es\).*simulated.*running the command again is safe'
            (Get-StoredId $script:Url).Count | Should -Be ($script:AllIds.Count - 2)
        }
    }
}

Describe 'Remove-BeakerSession as a scheduled task' {
    It 'the README''s scheduled script, run as cron runs it, exits with 0 after cleaning and with 1 when removal fails' {
        $store = Copy-BeakerStore (New-BeakerStore SQLite (Join-Path $TestDrive 'cron-fresh')) (Join-Path $TestDrive 'cron')
        $db = $store.Urls['sessions.db'] -replace '^sqlite:///', ''
        $all = Get-StoredId $store.Urls['sessions.db']
        $readme = Get-Content -Raw (Join-Path $PSScriptRoot '../README.md')
        $block = [regex]::Match($readme, '<!-- cleanup\.ps1:[^>]*-->\s*```powershell\r?\n(?<code>.*?)```', 'Singleline').Groups['code'].Value
        $block | Should -Match 'Remove-BeakerSession'
        $script = Join-Path $store.Directory 'cleanup.ps1'
        $block.Replace('/srv/app/production.ini', $store.Ini) | Set-Content $script
        $cronLine = [regex]::Match($readme, '(?m)^17 3 \* \* \* www-data (?<command>.+)$').Groups['command'].Value
        $cronLine | Should -Match '-File /etc/beaker/cleanup\.ps1$'
        $command = $cronLine.Replace('/usr/bin/pwsh', "$((Get-Command dotnet).Source) $script:Pwsh").Replace('/etc/beaker/cleanup.ps1', $script)
        $modules = Split-Path $script:ModuleDir

        $output = /usr/bin/env -i "PATH=/usr/bin:/bin" "TERM=xterm-256color" "HOME=$HOME" "PSModulePath=$modules" "DOTNET_ROOT=$env:DOTNET_ROOT" /bin/sh -c "$command < /dev/null" 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $output
        $output | Should -Match 'Removed'
        $output | Should -Not -Match "`e" -Because 'a scheduler''s log gets plain text, no terminal colours'
        $old = @(Get-ExpectedRows $store.Expected 'sessions.db' | Where-Object age_seconds -gt (2 * 86400)).id
        Get-StoredId $store.Urls['sessions.db'] | Should -Be @($all | Where-Object { $_ -notin $old })

        Remove-Item $db
        $output = /usr/bin/env -i "PATH=/usr/bin:/bin" "TERM=xterm-256color" "HOME=$HOME" "PSModulePath=$modules" "DOTNET_ROOT=$env:DOTNET_ROOT" /bin/sh -c "$command < /dev/null" 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 1
        $output | Should -Not -Match "`e" -Because 'a scheduler''s log gets plain text, no terminal colours'
        # The console wraps the message and draws a margin ('|') into it.
        ($output -replace '\s*\|\s*', ' ' -replace '\s+', ' ') | Should -Match 'sessions\.db.? does not exist'
    }
}
