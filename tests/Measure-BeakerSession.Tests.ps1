# Measure-BeakerSession against stores real Beaker wrote: every count comes from what the fixture writers say they
# wrote (expected.json), from the database read without the module, or from find.
BeforeDiscovery {
    $script:Backends = 'SQLite', 'PostgreSQL', 'MariaDB'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:BeakerKeys = '_accessed_time', '_creation_time', '_domain', '_path', '_expires', '_id'

    # Rows of sessions.db whose age falls in [From, To) seconds.
    function Get-AgedRows($Expected, [double] $From, [double] $To) {
        @(Get-ExpectedRows $Expected 'sessions.db' | Where-Object { $_.age_seconds -ge $From -and $_.age_seconds -lt $To })
    }
}

Describe 'Measure-BeakerSession on <_>' -ForEach $Backends {
    BeforeAll {
        $script:Backend = $_
        $script:Store = New-BeakerStore $script:Backend (Join-Path $TestDrive "measure-$($script:Backend)")
        $script:Rows = @(Get-ExpectedRows $script:Store.Expected 'sessions.db')
        $script:Url = $script:Store.Urls['sessions.db']
    }

    It 'counts rows, sessions, cache rows, sizes and ages as the store holds them' {
        $m = Measure-BeakerSession $script:Store.Ini -Timeout 8h
        $m.PSObject.TypeNames | Should -Contain 'BeakerHelpers.SessionStatistics'
        $m.TotalRows | Should -Be $script:Rows.Count
        $m.SessionRows | Should -Be @($script:Rows | Where-Object kind -ne 'cache').Count
        $m.OtherRows | Should -Be @($script:Rows | Where-Object kind -eq 'cache').Count
        $m.Old | Should -Be @($script:Rows | Where-Object { $_.age_seconds -gt 8 * 3600 }).Count
        $m.Active | Should -Be ($m.TotalRows - $m.Old)
        $sizes = Invoke-BeakerTraffic sizes $script:Url beaker_cache | ConvertFrom-Json
        $m.PayloadBytes | Should -Be $sizes.bytes
        $m.LargestPayloadBytes | Should -Be $sizes.largest
        $m.MeanPayloadBytes | Should -Be ([math]::Round($sizes.bytes / $script:Rows.Count, 1))
        $m.UnderOneHour | Should -Be @(Get-AgedRows $script:Store.Expected 0 3600).Count
        $m.OneHourToOneDay | Should -Be @(Get-AgedRows $script:Store.Expected 3600 86400).Count
        $m.OneToSevenDays | Should -Be @(Get-AgedRows $script:Store.Expected 86400 (7 * 86400)).Count
        $m.SevenToThirtyDays | Should -Be @(Get-AgedRows $script:Store.Expected (7 * 86400) (30 * 86400)).Count
        $m.OlderThanThirtyDays | Should -Be @(Get-AgedRows $script:Store.Expected (30 * 86400) ([double]::MaxValue)).Count
        $m.OldestAccess | Should -BeLessThan $m.NewestAccess
        $m.LockFiles | Should -BeNullOrEmpty
    }

    It 'calls old exactly what Remove-BeakerSession with the same timeout removes' {
        $copy = Copy-BeakerStore $script:Store (Join-Path $TestDrive ([guid]::NewGuid()))
        $m = Measure-BeakerSession $copy.Ini -Timeout 2d
        $m.Old | Should -BeGreaterThan 0
        (Remove-BeakerSession $copy.Ini -Timeout 2d -PassThru).Removed | Should -Be $m.Old
        (Measure-BeakerSession $copy.Ini -Timeout 2d).Old | Should -Be 0
    }

    It 'leaves Active and Old empty without a timeout, and shows one line in its table' {
        $m = Measure-BeakerSession -Url $script:Url -Timeout 0
        $m.Active | Should -BeNullOrEmpty
        $m.Old | Should -BeNullOrEmpty
        $m.TotalRows | Should -Be $script:Rows.Count
        $lines = @(($m | Out-String -Width 200).Split("`n") | Where-Object { $_.Trim() })
        $lines.Count | Should -Be 3 -Because 'a header, its underline and one line for the store'
        $lines[0] | Should -Match 'Sessions\s+Other\s+Active\s+Old\s+Oldest\s+Newest\s+Size\s+Store'
    }

    It '-Detailed counts the empty, the unreadable and the most common keys by decoding each session once' {
        $m = Measure-BeakerSession $script:Store.Ini -Timeout 0 -Detailed
        # The decoding pass counts the figures itself: they are the aggregate query's.
        $plain = Measure-BeakerSession $script:Store.Ini -Timeout 0
        foreach ($figure in 'TotalRows', 'SessionRows', 'OtherRows', 'PayloadBytes', 'LargestPayloadBytes', 'OldestAccess', 'NewestAccess', 'OneToSevenDays', 'UnderOneHour') {
            $m.$figure | Should -Be $plain.$figure -Because $figure
        }
        $sessions = @($script:Rows | Where-Object kind -eq 'session')
        $empty = @($script:Rows | Where-Object kind -eq 'empty').Count +
            @($sessions | Where-Object { @($_.values.Keys | Where-Object { $_ -notin $script:BeakerKeys }).Count -eq 0 }).Count
        $m.EmptySessions | Should -Be $empty
        $m.UnreadableSessions | Should -Be @($script:Rows | Where-Object kind -in 'corrupt', 'encrypted').Count
        $keyCounts = $sessions.values | ForEach-Object { $_.Keys } | Where-Object { $_ -notin $script:BeakerKeys } | Group-Object -NoElement | Sort-Object Count -Descending
        $top = @($m.CommonKeys.Keys)[0]
        $m.CommonKeys[$top] | Should -Be $keyCounts[0].Count
        $m.CommonKeys['user_name'] | Should -Be @($sessions | Where-Object { $_.values.Keys -contains 'user_name' }).Count
    }
}

Describe 'Measure-BeakerSession on a file store' {
    BeforeAll {
        $script:Dir = Join-Path $TestDrive 'folders'
        $script:Expected = New-FolderStores $script:Dir
        $script:File = $script:Expected.stores.file
        $script:Ini = Join-Path $script:Dir 'file.ini'
        $script:Root = Join-Path $script:Dir $script:File.root
        $script:Locks = Join-Path $script:Dir $script:File.lock_root
    }

    It 'counts the session files, their sizes, lock files and half-written files in one walk, and old as removal sees it' {
        $m = Measure-BeakerSession $script:Ini -Timeout 1d
        $cache = @(& find $script:Root -type f -name '*.cache' -printf '%s\n')
        $m.TotalRows | Should -Be $cache.Count
        $m.TotalRows | Should -Be $script:File.sessions.Count
        $m.SessionRows | Should -Be $m.TotalRows
        $m.PayloadBytes | Should -Be ($cache | Measure-Object -Sum).Sum
        $m.LockFiles | Should -Be @(& find $script:Locks -type f).Count
        $m.TempFiles | Should -Be @(& find $script:Root -type f -name '*.cache.temp').Count
        $m.TempFiles | Should -BeGreaterThan 0
        $m.Old | Should -Be @($script:File.sessions | Where-Object { $_.age_seconds -gt 86400 }).Count
        (Remove-BeakerSession $script:Ini -Timeout 1d -PassThru).Removed | Should -Be $m.Old
    }
}
