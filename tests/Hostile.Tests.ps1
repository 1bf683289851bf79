# What a visitor or stray data can put in front of the operator (docs/views.md#escaping): session ids chosen through the
# cookie of a site without a secret and values from forms, saved by real Beaker; corrupt rows; Redis keys that are not
# sessions; ini files that are not files. None of it may drive the terminal, stop a command for the whole store, or block.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:RemoveId = 'BeakerHelpers.Module.Commands.RemoveBeakerSessionCommand'

    # What a terminal acts on: C0 (NUL aside: an id cannot carry it through a cookie), DEL, C1, separators and bidi controls.
    $script:Controls = [ordered]@{
        BEL = [char]0x07; BS = [char]0x08; TAB = [char]0x09; LF = [char]0x0a; VT = [char]0x0b; FF = [char]0x0c; CR = [char]0x0d
        ESC = [char]0x1b; DEL = [char]0x7f; NEL = [char]0x85; CSI = [char]0x9b; OSC = [char]0x9d
    }
    $script:Bidi = [ordered]@{
        LRE = [char]0x202a; RLE = [char]0x202b; PDF = [char]0x202c; LRO = [char]0x202d; RLO = [char]0x202e
        LRI = [char]0x2066; RLI = [char]0x2067; FSI = [char]0x2068; PDI = [char]0x2069; LS = [char]0x2028; PS = [char]0x2029
    }
    # Any of them raw in a text shown to the operator; a line break between lines is the only one allowed.
    $script:Raw = '[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]'

    # Requests whose cookies name the ids (session_traffic.py visit); returns the ids Beaker stored.
    function Invoke-Visit([string] $Url, [object[]] $Visits) {
        @(Invoke-BeakerTraffic visit $Url (ConvertTo-Json -InputObject $Visits -Depth 5 -Compress) | ConvertFrom-Json)
    }

    # A child pwsh's output with PowerShell's own colours (SGR sequences, which no test id holds) taken out.
    function Get-ChildText([string] $Script) {
        ((Invoke-ModuleScript $Script).Text) -replace "`e\[[0-9;]*m", ''
    }

    function ConvertTo-Base64([string] $Text) { [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($Text)) }

    # Starts session_traffic.py lock, which holds its lock for $Seconds once READY exists; returns the process.
    function Start-LockHolder([string] $Url, [int] $Seconds, [string] $Mode = 'immediate') {
        $ready = Join-Path $TestDrive "locked-$([guid]::NewGuid().ToString('n'))"
        $holder = Start-Process /usr/bin/python3 -ArgumentList $script:Traffic, lock, $Url, $Seconds, $ready, $Mode -PassThru
        $deadline = (Get-Date).AddSeconds(30)
        while (-not (Test-Path $ready)) {
            if ($holder.HasExited -or (Get-Date) -gt $deadline) { throw 'The lock holder did not start.' }
            Start-Sleep -Milliseconds 20
        }
        $holder
    }
}

Describe 'Ids and values a visitor chose, in the views' {
    BeforeAll {
        $script:Url = New-EmptyStoreUrl SQLite $TestDrive
        $script:Attack = "`e[1A`e[2K zz"
        $visits = @(foreach ($name in $script:Controls.Keys) {
                $c = $script:Controls[$name]
                @{ id = "id-$name-${c}x"; values = @{ user_name = "u-$name-${c}v"; roles = @("admin$c", 'editor') } }
            }) + @(foreach ($name in $script:Bidi.Keys) {
                $c = $script:Bidi[$name]
                @{ id = "bidi-$name"; values = @{ user_name = "u-$name-${c}v"; roles = @("r$c") } }
            }) + @(
            @{ id = $script:Attack; values = @{ user_name = "mallory`e[2K`ralice@example.com"; roles = @("admin`e]0;owned`a") } }
            @{ id = 'plain-visitor'; values = @{ user_name = 'bob@example.com'; visits = 3 } }
        )
        $script:Visits = $visits
        $script:Stored = Invoke-Visit $script:Url $visits
        $script:Sessions = @(Get-BeakerSession -Url $script:Url -Timeout 0)
    }

    It 'is what real Beaker stored: every id exactly as the cookie named it' {
        $script:Stored | Should -Be @($script:Visits.id)
        $script:Sessions.Count | Should -Be $script:Visits.Count
    }

    It 'shows every control and bidi character escaped in the default table' {
        $text = $script:Sessions | Out-String -Width 500
        $text | Should -Not -Match $script:Raw
        $text | Should -Match ([regex]::Escape('\x1b[1A\x1b[2K zz'))
        $text | Should -Match ([regex]::Escape('id-CSI-\x9bx'))
        $text | Should -Match ([regex]::Escape('u-RLO-\u202ev'))
        @($text.Split("`n") | Where-Object { $_.Trim() }).Count | Should -Be (2 + $script:Visits.Count)
    }

    It 'shows them escaped in Format-List, and a clean session with its keys as labels' {
        $text = $script:Sessions | Format-List | Out-String -Width 500
        $text | Should -Not -Match $script:Raw
        $text | Should -Match ([regex]::Escape('mallory\x1b[2K\ralice@example.com'))
        $text | Should -Match ([regex]::Escape('admin\x1b]0;owned\x07'))
        $text | Should -Match ([regex]::Escape('id-LF-\nx'))
        $plain = $script:Sessions | Where-Object BeakerId -eq 'plain-visitor' | Format-List | Out-String -Width 300
        $plain | Should -Match '(?m)^user_name\s+: bob@example\.com'
    }

    It 'keeps the data exact: ids and values as stored, for Where-Object and export' {
        foreach ($visit in $script:Visits) {
            $session = @($script:Sessions | Where-Object BeakerId -CEQ $visit.id)
            $session.Count | Should -Be 1 -Because "the id of $($visit.id.Length) characters is listed once"
            $session[0].user_name | Should -BeExactly $visit.values.user_name
        }
        $attack = $script:Sessions | Where-Object BeakerId -CEQ $script:Attack
        $attack.roles[0] | Should -BeExactly "admin`e]0;owned`a"
        ($attack | ConvertTo-Json -Depth 5 | ConvertFrom-Json).user_name | Should -BeExactly "mallory`e[2K`ralice@example.com"
    }

    It 'removes exactly the session piped to Remove-BeakerSession, whatever its id holds' {
        $copy = Join-Path $TestDrive 'copy.db'
        Copy-Item ($script:Url -replace '^sqlite:///', '') $copy
        $target = Get-BeakerSession -Url "sqlite:///$copy" -Timeout 0 | Where-Object BeakerId -CEQ $script:Attack
        $target | Remove-BeakerSession -Confirm:$false
        $left = @(Get-StoredId "sqlite:///$copy")
        $left.Count | Should -Be ($script:Visits.Count - 1)
        $left | Should -Not -Contain $script:Attack
    }
}

Describe 'Ids a visitor chose, in messages' {
    BeforeAll {
        $script:Url = New-EmptyStoreUrl SQLite $TestDrive
        $script:Attack = "`e[1A`e[2K zz"
        $null = Invoke-Visit $script:Url @(@{ id = $script:Attack; values = @{ user_name = 'x' } })
        # A corrupt row under such an id, as a broken writer or a hostile one leaves it.
        $script:Corrupt = "bad`e]0;owned`a-row"
        $db = $script:Url -replace '^sqlite:///', ''
        & /usr/bin/python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('INSERT INTO beaker_cache (namespace, accessed, created, data) SELECT ?, accessed, created, ? FROM beaker_cache LIMIT 1', (sys.argv[2], b'not a pickle')); c.commit()" $db $script:Corrupt
        if ($LASTEXITCODE -ne 0) { throw 'The corrupt row could not be written.' }
    }

    It 'escapes the id in a corrupt row''s error, and keeps it exact as the target' {
        $null = Get-BeakerSession -Url $script:Url -Timeout 0 -ErrorAction SilentlyContinue -ErrorVariable bad
        @($bad).Count | Should -Be 1
        $bad[0].FullyQualifiedErrorId | Should -BeLike 'SessionCorrupt,*'
        $bad[0].Exception.Message | Should -Not -Match $script:Raw
        $bad[0].Exception.Message | Should -Match ([regex]::Escape('bad\x1b]0;owned\x07-row'))
        $bad[0].CategoryInfo.TargetName | Should -Not -Match $script:Raw
        $bad[0].TargetObject | Should -BeExactly $script:Corrupt
        ($bad[0] | Out-String) | Should -Not -Match $script:Raw
    }

    It 'escapes ids in -WhatIf, verbose lines, warnings and errors a removal writes' {
        $gone = ConvertTo-Base64 "gone`e[2J`rfake"
        $text = Get-ChildText ("`$gone = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('$gone')); " +
            "Get-BeakerSession -Url '$($script:Url)' -Timeout 0 -ErrorAction SilentlyContinue | Remove-BeakerSession -WhatIf -Verbose; " +
            "Remove-BeakerSession -Url '$($script:Url)' -Id `$gone -Verbose -ErrorAction Continue")
        $text | Should -Not -Match $script:Raw
        $text | Should -Match ('What if: Remove 1 session\(s\) given by id \(.*' + [regex]::Escape('\x1b[1A\x1b[2K zz'))
        $text | Should -Match ([regex]::Escape("holds no session 'gone\x1b[2J\rfake'"))
    }

    It 'escapes a store''s path in the summaries and their views' {
        $dir = New-Item -ItemType Directory (Join-Path $TestDrive "odd`e[31mdir")
        $db = Join-Path $dir 'sessions.db'
        Copy-Item ($script:Url -replace '^sqlite:///', '') $db
        $summary = Remove-BeakerSession -Url "sqlite:///$db" -Id $script:Attack -PassThru -Confirm:$false
        $summary.Removed | Should -Be 1
        $summary.Store | Should -Match "`e"
        ($summary | Out-String -Width 400) | Should -Not -Match "`e"
        (Measure-BeakerSession -Url "sqlite:///$db" | Out-String -Width 400) | Should -Not -Match "`e"
        # Pester's own clean-up takes the name as a wildcard pattern.
        Remove-Item -LiteralPath $dir.FullName -Recurse -Force
    }
}

Describe 'Keys under the Redis session pattern that are not sessions' {
    BeforeAll {
        $script:Url = "$(Get-ServerAdminUrl Redis)/40"
    }

    BeforeEach {
        $null = Invoke-Redis $script:Url 'c.flushdb()'
        $idsFile = Join-Path $TestDrive 'ids.json'
        Invoke-BeakerTraffic seed-empty $script:Url $idsFile | Out-Null
        $script:Ids = Get-Content -Raw $idsFile | ConvertFrom-Json -AsHashtable
        $script:Young = $script:Ids.young_full[0]
        # A list, a hash and a set someone else put there, and a session copied under a key that is not UTF-8.
        $null = Invoke-Redis $script:Url ("[c.rpush('beaker_cache:list1:session', 'x'), c.hset('beaker_cache:hash1:session', 'k', 'v'), c.sadd('beaker_cache:set1:session', 'm'), " +
            "c.set(b'beaker_cache:\xff\xfe-odd:session', c.get('beaker_cache:$($script:Young):session'))][-1]")
        $script:OddId = [string][char]0xdcff + [char]0xdcfe + '-odd'
    }

    It 'lists, measures and removes by age past them, with one warning per store' {
        $sessions = @(Get-BeakerSession -Url $script:Url -Timeout 0 -WarningVariable listed -WarningAction SilentlyContinue)
        $sessions.Count | Should -Be (@($script:Ids.Values | ForEach-Object { $_ }).Count + 1)
        @($listed).Count | Should -Be 1
        "$($listed[0])" | Should -Match '3 key\(s\).*hold no string.*beaker_cache:(list1|hash1|set1):session'

        $measured = Measure-BeakerSession -Url $script:Url -WarningVariable counted -WarningAction SilentlyContinue
        $measured.SessionRows | Should -Be $sessions.Count
        @($counted).Count | Should -Be 1

        $summary = Remove-BeakerSession -Url $script:Url -Timeout 1h -PassThru -WarningVariable removing -WarningAction SilentlyContinue
        $summary.Removed | Should -Be ($script:Ids.old_empty.Count + $script:Ids.old_full.Count)
        @($removing).Count | Should -Be 1
        Invoke-Redis $script:Url "[c.type(k).decode() for k in (b'beaker_cache:list1:session', b'beaker_cache:hash1:session', b'beaker_cache:set1:session')]" | Should -Be 'list', 'hash', 'set'
    }

    It 'stops a removal that waits for a server that stopped answering, at Ctrl+C' {
        # CLIENT PAUSE WRITE holds every write (the removal's compare-and-delete scripts) for 30 s; reads go on.
        $pausedAt = Get-Date
        try {
            $null = Invoke-Redis $script:Url "str(c.execute_command('CLIENT', 'PAUSE', 30000, 'WRITE'))"
            $output = Invoke-StoppedCommand "Remove-BeakerSession -Url '$($script:Url)' -Timeout 1h" -Seconds 5
            $stoppedAfter = (Get-Date) - $pausedAt
        }
        finally {
            $null = Invoke-Redis $script:Url "str(c.execute_command('CLIENT', 'UNPAUSE'))"
        }
        $output | Should -Contain 'STOPPED'
        $output | Should -Not -Contain 'ENDED BEFORE THE STOP'
        $stoppedAfter.TotalSeconds | Should -BeLessThan 30 -Because 'the stop must not wait for the server to answer again'
        @($output | Where-Object { $_ -match 'WARNING: Stopped: 0 session\(s\) were removed' }).Count | Should -Be 1
    }

    It 'lists a key that is not UTF-8 with an escaped id, and removes it byte-exactly when piped' {
        $odd = @(Get-BeakerSession -Url $script:Url -Timeout 0 -WarningAction SilentlyContinue | Where-Object BeakerId -CEQ $script:OddId)
        $odd.Count | Should -Be 1
        $odd[0].user_name | Should -BeLike 'user*@example.com'
        ($odd | Out-String -Width 300) | Should -Match ([regex]::Escape('\udcff\udcfe-odd'))
        $summary = $odd | Remove-BeakerSession -PassThru -Confirm:$false
        $summary.Removed | Should -Be 1
        Invoke-Redis $script:Url "c.exists(b'beaker_cache:\xff\xfe-odd:session')" | Should -Be 0
        Invoke-Redis $script:Url "c.exists('beaker_cache:$($script:Young):session')" | Should -Be 1
    }
}

Describe 'Ini files that are not files' {
    It 'refuses a named pipe, at once, as the ini file and as a use = config: target' {
        $fifo = Join-Path $TestDrive 'pipe.ini'
        & mkfifo $fifo
        $including = Join-Path $TestDrive 'including.ini'
        "[app:main]`nuse = config:pipe.ini`n" | Set-Content $including
        $out = Join-Path $TestDrive 'fifo.out'
        $script = "Import-Module '$script:ModuleDir'; foreach (`$ini in '$fifo', '$including') { try { Get-BeakerSession `$ini -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId } }"
        $child = Start-Process dotnet -ArgumentList $script:Pwsh, '-NoProfile', '-NonInteractive', '-Command', $script -RedirectStandardOutput $out -PassThru
        $finished = $child.WaitForExit(60000)
        if (-not $finished) { $child.Kill($true) }
        $finished | Should -BeTrue -Because 'opening a named pipe must not wait for a writer'
        @(Get-Content $out) | Should -Be 'ConfigFileNotRegular,BeakerHelpers.Module.Commands.GetBeakerSessionCommand', 'ConfigFileNotRegular,BeakerHelpers.Module.Commands.GetBeakerSessionCommand'
    }

    It 'refuses a folder named as the ini file' {
        $folder = New-Item -ItemType Directory (Join-Path $TestDrive 'app.ini')
        { Get-BeakerSession -LiteralPath $folder.FullName } | Should -Throw -ErrorId 'ConfigFileNotRegular,BeakerHelpers.Module.Commands.GetBeakerSessionCommand'
    }
}

Describe 'Operator edges' {
    BeforeAll {
        $script:Source = New-BeakerStore SQLite (Join-Path $TestDrive 'source')
    }

    It 'takes ini files piped from Get-ChildItem as ini files, and cleans each by age' {
        $root = New-Item -ItemType Directory (Join-Path $TestDrive 'apps')
        $a = Copy-BeakerStore $script:Source (Join-Path $root 'a')
        $b = Copy-BeakerStore $script:Source (Join-Path $root 'b')
        $old = @(Get-ExpectedRows $script:Source.Expected 'sessions.db' | Where-Object { $_.age_seconds -gt 2 * 86400 }).Count
        $old | Should -BeGreaterThan 0
        $summaries = @(Get-ChildItem (Join-Path $root '*/prod.ini') | Remove-BeakerSession -Timeout 2d -PassThru)
        $summaries.Count | Should -BeGreaterOrEqual 2
        ($summaries | Where-Object Store -Like "*$($a.Directory)/sessions.db*").Removed | Should -Be $old
        ($summaries | Where-Object Store -Like "*$($b.Directory)/sessions.db*").Removed | Should -Be $old
    }

    It 'refuses -Timeout with session ids piped as text, as before' {
        { 'abc' | Remove-BeakerSession -Url 'sqlite:////nowhere.db' -Timeout 2d } | Should -Throw -ErrorId "TimeoutWithId,$script:RemoveId"
    }

    It 'says under -WhatIf that nothing would go, with the cutoff' {
        $text = Get-ChildText "Remove-BeakerSession -Url '$($script:Source.Urls['sessions.db'])' -Timeout 3650d -WhatIf"
        $text | Should -Match 'What if: Nothing to remove from sqlite .* no session last accessed before \d{4}-\d\d-\d\d \d\d:\d\d:\d\d'
    }

    It 'exports list values to CSV as their text, and keeps them lists for JSON' {
        $sessions = @(Get-BeakerSession $script:Source.Ini -Timeout 0 -ErrorAction SilentlyContinue)
        $csv = Join-Path $TestDrive 'sessions.csv'
        $sessions | Export-Csv $csv
        $text = Get-Content -Raw $csv
        $text | Should -Not -Match 'System\.Object\[\]'
        $alice = Import-Csv $csv | Where-Object user_name -eq 'alice@example.com'
        $alice.roles | Should -Be '[admin, editor]'
        $json = $sessions | Where-Object user_name -eq 'alice@example.com' | ConvertTo-Json -Depth 5 | ConvertFrom-Json
        @($json.roles) | Should -Be 'admin', 'editor'
    }
}

Describe 'Ctrl+C while another process holds a lock (<_>)' -ForEach 'SQLite', 'PostgreSQL', 'MariaDB' {
    BeforeAll {
        $script:Backend = $_
    }

    BeforeEach {
        $script:Url = New-EmptyStoreUrl $script:Backend $TestDrive
        Invoke-BeakerTraffic seed $script:Url 2000 0 (Join-Path $TestDrive 'seeded.json') | Out-Null
    }

    It 'stops a removal that waits for the lock at once, rolls nothing in, and says so' {
        $holder = Start-LockHolder $script:Url 120
        try {
            # A child pwsh stops the removal as Ctrl+C does, once it waits (SQLite says so; the servers' DELETE just waits).
            $output = if ($script:Backend -eq 'SQLite') {
                Invoke-StoppedCommand "Remove-BeakerSession -Url '$($script:Url)' -Timeout 1d" -StopWhen '$ps.Streams.Warning.Count -gt 0'
            }
            else {
                Invoke-StoppedCommand "Remove-BeakerSession -Url '$($script:Url)' -Timeout 1d" -Seconds 4
            }
            $holder.HasExited | Should -BeFalse -Because 'the removal must stop while the lock is still held, not when it is released'
        }
        finally {
            if (-not $holder.HasExited) { $holder.Kill() }
            $holder.WaitForExit(30000) | Out-Null
        }
        $output | Should -Contain 'STOPPED'
        $output | Should -Not -Contain 'ENDED BEFORE THE STOP'
        $warning = @($output | Where-Object { $_ -match 'WARNING: Stopped: ' })
        $warning.Count | Should -Be 1
        $warning[0] | Should -Match 'Stopped: 0 session\(s\) were removed from .* before the stop\. The store is consistent: '
        $warning[0] | Should -Match $(if ($script:Backend -eq 'SQLite') { 'no batch was under way' } else { 'the batch under way was rolled back' })
        $warning[0] | Should -Match 'run the command again to finish'
        @(Get-StoredId $script:Url).Count | Should -Be 2000
    }
}

Describe 'A SQLite file another process holds exclusively' {
    It 'waits, saying so, while a SQLite file is held exclusively, and then removes' {
        $url = New-EmptyStoreUrl SQLite $TestDrive
        Invoke-BeakerTraffic seed $url 2000 0 (Join-Path $TestDrive 'seeded.json') | Out-Null
        $holder = Start-LockHolder $url 3 exclusive
        try {
            $summary = Remove-BeakerSession -Url $url -Timeout 1d -PassThru -WarningVariable waited -WarningAction SilentlyContinue
        }
        finally {
            $holder.WaitForExit(30000) | Out-Null
        }
        $holder.ExitCode | Should -Be 0
        "$waited" | Should -Match "Waiting to read '.*': another process holds the database locked"
        $summary.Removed | Should -Be 2000
    }
}

Describe 'A file store this user may not write' {
    It 'is a few errors and one count, not an error per file, and removes nothing' {
        $data = Join-Path $TestDrive 'readonly-files'
        Invoke-BeakerTraffic seed "file:$data" 40 0 (Join-Path $TestDrive 'files.json') | Out-Null
        $ini = Join-Path $TestDrive 'files.ini'
        "[app:main]`nuse = egg:app`nbeaker.session.type = file`nbeaker.session.data_dir = $data`n" | Set-Content $ini
        $before = @(& find $data -type f | Sort-Object)
        & find $data -type d -exec chmod 0555 '{}' +
        try {
            $script = "Remove-BeakerSession '$ini' -Timeout 1d -ErrorVariable bad -ErrorAction SilentlyContinue; " +
                "`$bad | ForEach-Object { 'ERROR ' + `$_.FullyQualifiedErrorId + ' | ' + `$_.Exception.Message }"
            $output = (Invoke-ModuleScript $script -Unprivileged).Lines
        }
        finally {
            & find $data -type d -exec chmod 0755 '{}' +
        }
        $errors = @($output | Where-Object { $_ -like 'ERROR *' })
        $errors.Count | Should -Be 4 -Because ($output -join "`n")
        @($errors | Select-Object -First 3) | Should -Match 'cannot be (removed|opened) by this user|cannot be removed'
        $errors[2] | Should -Match 'Further files that cannot be removed are counted and said once, at the end\.'
        $errors[3] | Should -Match '^ERROR FilesNotRemoved,.* \| \d+ more file\(s\) in file .* could not be removed or locked either'
        @(& find $data -type f | Sort-Object) | Should -Be $before
    }
}
