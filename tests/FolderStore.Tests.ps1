BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # A copy that keeps every file's modification time (the sessions' ages).
    function Copy-Tree([string] $From, [string] $To) {
        & cp -a $From $To
        if ($LASTEXITCODE -ne 0) { throw "cp -a $From $To failed" }
    }

    # Everything under a folder, with sizes and times: equal fingerprints mean nothing was touched.
    function Get-TreeFingerprint([string] $Path) {
        (& find $Path -printf '%P %y %s %T@ %l\n' | Sort-Object) -join "`n"
    }

    # The ids of the sessions present in a store's folder tree, read with find (not by the module under test).
    function Get-StoredFolderId([string] $Root, [string] $Kind) {
        $suffix = if ($Kind -eq 'file') { '.cache' } else { '.dbm' }
        @(& find $Root -type f -name "*$suffix*" -not -name '*.temp' -printf '%f\n' | ForEach-Object { $_.Substring(0, $_.IndexOf($suffix)) } | Sort-Object -Unique)
    }

    # What real Beaker finds for these ids: id -> user_name, or $null when it finds no session.
    function Get-BeakerLoaded([string] $Kind, [string] $DataDir, [string[]] $Ids) {
        Invoke-BeakerTraffic load "${Kind}:$DataDir" @Ids | ConvertFrom-Json -AsHashtable
    }

    function Get-LockPath([string] $LockRoot, [string] $Id) {
        $hash = [Convert]::ToHexString([Security.Cryptography.SHA1]::HashData([Text.Encoding]::UTF8.GetBytes($Id))).ToLowerInvariant()
        Join-Path $LockRoot $hash.Substring(0, 1) $hash.Substring(0, 2) "$hash.lock"
    }

    $script:Fresh = Join-Path $TestDrive 'fresh'
    $script:Expected = New-FolderStores $script:Fresh
    $script:Generated = [DateTimeOffset]::FromUnixTimeMilliseconds([long]($script:Expected.generated_at * 1000)).LocalDateTime
}

Describe 'File and dbm session stores' {
    BeforeEach {
        $script:Dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        Copy-Tree $script:Fresh $script:Dir
        $script:File = $script:Expected.stores.file
        $script:FileRoot = Join-Path $script:Dir $script:File.root
        $script:FileLocks = Join-Path $script:Dir $script:File.lock_root
        $script:FileIni = Join-Path $script:Dir 'file.ini'
    }

    Context 'Get-BeakerSession' {
        It 'lists every session of a file store, with the file time as BeakerAccessed and _creation_time as BeakerCreated' {
            $sessions = @(Get-BeakerSession $script:FileIni -Timeout 0 -ErrorVariable problems)
            $problems | Should -BeNullOrEmpty
            @($sessions.BeakerId | Sort-Object) | Should -Be @($script:File.sessions.id | Sort-Object)
            foreach ($expected in $script:File.sessions) {
                $session = $sessions | Where-Object BeakerId -eq $expected.id
                $session.user_name | Should -Be $expected.user_name
                $session.BeakerStore.ToString() | Should -BeLike "file '*container_file'"
                ($session.BeakerAccessed - $script:Generated.AddSeconds(-$expected.age_seconds)).TotalSeconds | Should -BeLessThan 1 -Because $expected.id
                ($session.BeakerAccessed - $script:Generated.AddSeconds(-$expected.age_seconds)).TotalSeconds | Should -BeGreaterThan -1
                ($session.BeakerCreated - $script:Generated.AddSeconds(-$expected.created_age_seconds)).Duration().TotalSeconds | Should -BeLessThan 1
            }
        }

        It 'lists oldest access first, as the SQL stores do (<_>)' -ForEach 'file', 'dumb' {
            $sessions = @(Get-BeakerSession (Join-Path $script:Dir "$_.ini") -Timeout 0 -ErrorAction SilentlyContinue)
            $sessions.Count | Should -BeGreaterThan 2
            @($sessions.BeakerAccessed) | Should -Be @($sessions.BeakerAccessed | Sort-Object)
            # The file ages differ, so the order is not the folders' (ids in ordinal order).
            @($sessions.BeakerId) | Should -Not -Be @($sessions.BeakerId | Sort-Object -CaseSensitive)
        }

        It 'finds a session by id without listing the store, and says which ids it lacks' {
            $wanted = $script:File.sessions[0].id
            $found = @(Get-BeakerSession $script:FileIni -Id $wanted, 'nosuchsession' -ErrorVariable missing -ErrorAction SilentlyContinue)
            $found.BeakerId | Should -Be $wanted
            $found.user_name | Should -Be $script:File.sessions[0].user_name
            @($missing).Count | Should -Be 1
            $missing[0].FullyQualifiedErrorId | Should -BeLike 'SessionNotFound,*'
        }

        It 'decodes Beaker 1.11 dicts, the 1.12 pickle and json layouts and Python 2 protocol-0 files' {
            $sessions = Get-BeakerSession $script:FileIni -Timeout 0
            $rich = $sessions | Where-Object user_name -eq 'rich@example.com'
            $rich.roles | Should -Be @('admin', 'editor')
            $rich.last_login | Should -Be ([datetime]::new(2024, 2, 29, 13, 45, 30).AddTicks(1234560))
            $rich.tags | Sort-Object | Should -Be @('a', 'b')
            ($sessions | Where-Object user_name -eq 'pat@example.com').n | Should -Be 7
            ($sessions | Where-Object user_name -eq 'jay@example.com').list | Should -Be @(1, 'x')
            $py2 = $sessions | Where-Object user_name -eq 'py2live@example.com'
            $py2.roles | Should -Be @('reader', 'writer')
            $py2.admin | Should -BeFalse
            $py2.visits | Should -Be 12
            $py2._accessed_time | Should -BeOfType [datetime]
        }

        It '-Timeout keeps the sessions whose file changed within it' {
            $recent = @(Get-BeakerSession $script:FileIni -Timeout 1d).BeakerId | Sort-Object
            $recent | Should -Be @($script:File.sessions | Where-Object { $_.age_seconds -lt 86400 } | ForEach-Object id | Sort-Object)
            $recent.Count | Should -Be 8
        }

        It 'decrypts encrypted sessions with the ini keys, and without keys reports each one' {
            $ini = Join-Path $script:Dir 'crypto.ini'
            (Get-BeakerSession $ini -Timeout 0).user_name | Sort-Object | Should -Be @('oldsecret@example.com', 'secret@example.com')
            (Get-Content $ini) | Where-Object { $_ -notmatch '_key' } | Set-Content $ini
            $out = @(Get-BeakerSession $ini -Timeout 0 -ErrorVariable problems -ErrorAction SilentlyContinue)
            $out.Count | Should -Be 0
            @($problems.FullyQualifiedErrorId -like 'SessionEncrypted*').Count | Should -Be 2
        }

        It 'finds the sessions through file_dir, and Beaker picks the file type when only data_dir is set' {
            (Get-BeakerSession (Join-Path $script:Dir 'dirs.ini') -Timeout 0).user_name | Sort-Object | Should -Be @('dirs@example.com', 'dirsold@example.com')
            (Get-Content $script:FileIni) | Where-Object { $_ -notmatch '\.type' } | Set-Content $script:FileIni
            @(Get-BeakerSession $script:FileIni -Timeout 0 -Verbose 4>&1 | Where-Object { $_ -is [Management.Automation.VerboseRecord] -and $_.Message -match 'in files' }).Count | Should -Be 1
            @(Get-BeakerSession $script:FileIni -Timeout 0).Count | Should -Be $script:File.sessions.Count
        }

        It 'lists dbm.dumb sessions' {
            $dumb = $script:Expected.stores.dumb
            $sessions = @(Get-BeakerSession (Join-Path $script:Dir 'dumb.ini') -Timeout 0)
            @($sessions.BeakerId | Sort-Object) | Should -Be @($dumb.sessions.id | Sort-Object)
            ($sessions | Where-Object BeakerId -eq $dumb.sessions[0].id).roles | Should -Be @('x', 'y')
            ($sessions | Where-Object user_name -eq 'dumbpat@example.com') | Should -Not -BeNullOrEmpty
        }

        It 'says for each session of another dbm flavour that it cannot be read, and lists nothing wrong' {
            $dbm = $script:Expected.stores.dbm
            $out = @(Get-BeakerSession (Join-Path $script:Dir 'dbm.ini') -Timeout 0 -ErrorVariable problems -ErrorAction SilentlyContinue)
            $out.Count | Should -Be 0
            $problems.Count | Should -Be $dbm.sessions.Count
            $problems | ForEach-Object {
                $_.FullyQualifiedErrorId | Should -BeLike 'DbmFlavourNotReadable*'
                $_.Exception.Message | Should -Match 'cannot read .*Remove-BeakerSession still removes'
            }
        }

        It 'fails clearly when the data folder does not exist, naming it' {
            (Get-Content $script:FileIni) -replace 'file_data', 'no_such_data' | Set-Content $script:FileIni
            { Get-BeakerSession $script:FileIni -Timeout 0 -ErrorAction Stop } | Should -Throw -ErrorId 'StoreNotFound*' -ExpectedMessage "*no_such_data/container_file*does not exist*data_dir*"
        }
    }

    Context 'Remove-BeakerSession' {
        It 'removes old sessions with their lock files, old orphan locks, old half-written files and emptied folders, and nothing else' {
            # Beaker 1.11 cannot load what 1.12 wrote (docs/storage.md#payload); every other live session must still load after the cleanup.
            $loadable = @($script:File.sessions | Where-Object { $_.age_seconds -lt 86400 -and $_.layout -notlike 'B-*' })
            $before = Get-BeakerLoaded file (Join-Path $script:Dir 'file_data') $loadable.id
            $summary = Remove-BeakerSession $script:FileIni -Timeout 1d -PassThru
            $old = @($script:File.sessions | Where-Object { $_.age_seconds -gt 86400 })
            $live = @($script:File.sessions | Where-Object { $_.age_seconds -lt 86400 })
            Get-StoredFolderId $script:FileRoot file | Should -Be @($live.id | Sort-Object)
            foreach ($session in $old) { Get-LockPath $script:FileLocks $session.id | Should -Not -Exist }
            $ivan = $live | Where-Object user_name -eq 'ivan@example.com'
            Get-LockPath $script:FileLocks $ivan.id | Should -Not -Exist -Because 'its lock file is 40 days old and nobody held it'
            foreach ($session in $live | Where-Object { $_.created_age_seconds -lt 86400 -and $_.layout -ne 'python2' }) {
                Get-LockPath $script:FileLocks $session.id | Should -Exist
            }
            foreach ($leftover in $script:File.leftovers) {
                $path = Join-Path $script:Dir $leftover.path
                if ($leftover.age_seconds -gt 86400) { $path | Should -Not -Exist } else { $path | Should -Exist }
            }
            Join-Path $script:FileRoot 'e' | Should -Not -Exist -Because 'every session under e/ was old'
            $summary.Removed | Should -Be $old.Count
            $summary.Requested | Should -Be $old.Count
            $summary.LockFiles | Should -Be 6
            $summary.TempFiles | Should -Be 1
            $summary.Folders | Should -BeGreaterThan 5
            # The summary's default table shows what went besides the sessions.
            $table = ($summary | Out-String -Width 250).Split("`n") | Where-Object { $_.Trim() }
            $table[0] | Should -Match 'Requested\s+Removed\s+LockFiles\s+TempFiles\s+Folders'
            $table[2] | Should -Match "\b$($old.Count)\s+6\s+1\s+$($summary.Folders)\b"
            $after = Get-BeakerLoaded file (Join-Path $script:Dir 'file_data') $loadable.id
            foreach ($session in $loadable) { $after[$session.id] | Should -Be $session.user_name -Because 'Beaker still loads every live session' }
            $before.Values | Should -Not -Contain $null
        }

        It '-WhatIf says what would go and touches nothing' {
            $before = Get-TreeFingerprint $script:Dir
            $run = Invoke-ModuleScript "Remove-BeakerSession '$script:FileIni' -Timeout 1d -WhatIf"
            $said = $run.Text
            $run.ExitCode | Should -Be 0
            $said | Should -Match 'What if: Remove 5 session\(s\) last accessed before .* lock files'
            Get-TreeFingerprint $script:Dir | Should -Be $before
        }

        It 'removes every file of an old dbm session, in each flavour, and its lock' {
            foreach ($name in 'dumb', 'dbm') {
                $store = $script:Expected.stores[$name]
                $root = Join-Path $script:Dir $store.root
                $summary = Remove-BeakerSession (Join-Path $script:Dir "$name.ini") -Timeout 1d -PassThru
                $old = @($store.sessions | Where-Object { $_.age_seconds -gt 86400 })
                $summary.Removed | Should -Be $old.Count
                Get-StoredFolderId $root dbm | Should -Be @($store.sessions | Where-Object { $_.age_seconds -lt 86400 } | ForEach-Object id | Sort-Object)
                foreach ($session in $old) {
                    @(Get-ChildItem -Recurse -File $root | Where-Object Name -like "$($session.id)*") | Should -BeNullOrEmpty
                    Get-LockPath (Join-Path $script:Dir $store.lock_root) $session.id | Should -Not -Exist
                }
            }
            $dumb = $script:Expected.stores.dumb
            $loaded = Get-BeakerLoaded dbm (Join-Path $script:Dir 'dumb_data') ($dumb.sessions | Where-Object { $_.age_seconds -lt 86400 -and $_.layout -notlike 'B-*' } | ForEach-Object id)
            $loaded.Values | Should -Be @('dumb@example.com')
        }

        It 'removes the sessions piped from Get-BeakerSession, whatever their age' {
            Get-BeakerSession $script:FileIni -Timeout 0 | Where-Object user_name -in 'carol@example.com', 'grace@example.com' | Remove-BeakerSession
            $gone = @($script:File.sessions | Where-Object user_name -in 'carol@example.com', 'grace@example.com')
            Get-StoredFolderId $script:FileRoot file | Should -Be @($script:File.sessions.id | Where-Object { $_ -notin $gone.id } | Sort-Object)
            foreach ($session in $gone) { Get-LockPath $script:FileLocks $session.id | Should -Not -Exist }
        }

        It 'never follows a link out of the store: linked folders and files are left alone, with a warning' {
            $outside = Join-Path $TestDrive "outside-$([guid]::NewGuid().ToString('n'))"
            New-Item -ItemType Directory (Join-Path $outside 'f0') | Out-Null
            $victims = foreach ($name in 'f0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.cache', 'f0bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.cache') {
                $path = Join-Path $outside 'f0' $name
                Copy-Item (Get-ChildItem -Recurse -File $script:FileRoot -Filter '*.cache' | Select-Object -First 1).FullName $path
                (Get-Item $path).LastWriteTime = (Get-Date).AddDays(-30)
                $path
            }
            $lonely = Join-Path $outside 'lonely.cache'
            Copy-Item $victims[0] $lonely
            (Get-Item $lonely).LastWriteTime = (Get-Date).AddDays(-30)
            New-Item -ItemType SymbolicLink -Path (Join-Path $script:FileRoot 'f') -Target $outside | Out-Null
            New-Item -ItemType Directory (Join-Path $script:FileRoot 'c/c1') | Out-Null
            New-Item -ItemType SymbolicLink -Path (Join-Path $script:FileRoot 'c/c1/c1cccccccccccccccccccccccccccccc.cache') -Target $lonely | Out-Null
            New-Item -ItemType SymbolicLink -Path (Join-Path $script:FileRoot 'd/dd') -Target (Join-Path $outside 'f0') | Out-Null
            $outsideBefore = Get-TreeFingerprint $outside

            $listed = @(Get-BeakerSession $script:FileIni -Timeout 0 -ErrorVariable problems -ErrorAction SilentlyContinue -WarningVariable warnings -WarningAction SilentlyContinue)
            $listed.Count | Should -Be $script:File.sessions.Count
            $problems.Count | Should -Be 1
            $problems[0].FullyQualifiedErrorId | Should -BeLike 'SessionFileIsLink*'
            $problems[0].Exception.Message | Should -BeLike "*c1cccccccccccccccccccccccccccccc*link*never follows*"
            @($warnings | Where-Object { "$_" -like '*is a link*never follows*' }).Count | Should -Be 2

            Remove-BeakerSession $script:FileIni -Timeout 1d -WarningVariable warnings -WarningAction SilentlyContinue
            Get-TreeFingerprint $outside | Should -Be $outsideBefore
            foreach ($link in 'f', 'c/c1/c1cccccccccccccccccccccccccccccc.cache', 'd/dd') { (Get-Item -Force (Join-Path $script:FileRoot $link)).LinkTarget | Should -Not -BeNullOrEmpty }
            @($warnings | Where-Object { "$_" -like '*link*' }).Count | Should -Be 3
        }

        It 'keeps every session a live Beaker process saves meanwhile, and removes every old one (<_>)' -ForEach 'file', 'dbm' {
            $kind = $_
            $data = Join-Path $script:Dir "traffic-$kind"
            $store = "${kind}:$data"
            $ids = Join-Path $script:Dir 'traffic.json'
            Invoke-BeakerTraffic seed $store 5000 20 $ids | Out-Null
            $ini = Join-Path $script:Dir "traffic-$kind.ini"
            "[app:main]`nbeaker.session.type = $kind`nbeaker.session.data_dir = $data`n" | Set-Content $ini
            $run = Invoke-DuringBeakerWrites $store $ids $script:Dir { Remove-BeakerSession $ini -Timeout 1d -BatchSize 50 -PassThru }
            $summary = $run.Output
            $run.Writes.errors | Should -BeNullOrEmpty
            $run.SavesDuring | Should -BeGreaterThan 0 -Because 'the app saved sessions while the removal ran'
            $summary.Removed | Should -Be 5000
            $summary.Batches | Should -Be 100
            $check = Invoke-BeakerTraffic check $store $ids | ConvertFrom-Json
            $check.missing | Should -BeNullOrEmpty
            $check.loaded | Should -Be 20
            $check.rows | Should -Be 20
        }
    }

    Context 'as a user the file system refuses' {
        It 'reports an unreadable session file for that session alone and lists the rest' {
            $victim = $script:File.sessions | Where-Object user_name -eq 'bob@example.com'
            $path = (Get-ChildItem -Recurse -File $script:FileRoot -Filter "$($victim.id).cache").FullName
            & chmod 000 $path
            # root reads any file; without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH it obeys the file's mode like any user.
            $script = "`$s = @(Get-BeakerSession '$script:FileIni' -Timeout 0 -ErrorVariable e -ErrorAction SilentlyContinue); " +
                "[pscustomobject]@{ Count = `$s.Count; Errors = @(`$e | ForEach-Object { `$_.FullyQualifiedErrorId + '|' + `$_.Exception.Message }) } | ConvertTo-Json -Compress"
            $run = Invoke-ModuleScript $script -Unprivileged
            $json = $run.Lines
            $run.ExitCode | Should -Be 0
            $result = $json | ConvertFrom-Json
            $result.Count | Should -Be ($script:File.sessions.Count - 1)
            @($result.Errors).Count | Should -Be 1
            $result.Errors[0] | Should -BeLike "SessionFileUnreadable*$($victim.id)*cannot be read*"
        }
    }
}
