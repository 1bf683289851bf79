# Sessions holding application objects and standard-library values (tests/fixtures/make_value_stores.py, real Beaker
# from Python 3.11), as a PowerShell user meets them: typed values, filters, the formatter, JSON, CSV and CLIXML.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Values = Join-Path $TestDrive 'values'
    $script:Expected = New-ValueStores $script:Values
    $script:Plain = @(Get-BeakerSession (Join-Path $script:Values 'values.ini') -Timeout 0 -ErrorAction SilentlyContinue)
    $script:Decrypted = @(Get-BeakerSession (Join-Path $script:Values 'values-crypto.ini') -Timeout 0)
    $script:Files = @(Get-BeakerSession (Join-Path $script:Values 'files.ini') -Timeout 0)
    $script:All = $script:Decrypted + $script:Files
}

Describe 'Sessions holding application objects, listed by Get-BeakerSession' {
    It 'lists every session of every layout: protocol 5 and 2 in SQL, encrypted, protocol 4 in files' {
        $script:Plain.Count | Should -Be 2
        $script:Decrypted.Count | Should -Be 3
        $script:Files.Count | Should -Be 1
        @($script:All.BeakerId | Sort-Object) | Should -Be @($script:Expected.sessions.id | Sort-Object)
    }

    It 'reports the encrypted one without keys as SessionEncrypted, never as corrupt' {
        $null = Get-BeakerSession (Join-Path $script:Values 'values.ini') -Timeout 0 -ErrorVariable bad -ErrorAction SilentlyContinue
        $bad.Count | Should -Be 1
        $bad[0].FullyQualifiedErrorId | Should -BeLike 'SessionEncrypted,*'
    }

    It 'gives application objects their class, fields and items (<BeakerId>)' -ForEach @(
        @{ Index = 0 }, @{ Index = 1 }, @{ Index = 2 }, @{ Index = 3 }
    ) {
        $s = $script:All[$Index]
        $s.user_name | Should -Be 'ann@example.com'
        "$($s.role)" | Should -Be 'Role.EDITOR'
        $s.role -eq 'Role.EDITOR' | Should -BeTrue
        $s.role.__class__ | Should -Be 'app_objects.Role'
        $s.level.name | Should -Be 'HIGH'
        @($s.perm.name.Split('|') | Sort-Object) | Should -Be 'READ', 'WRITE'
        $s.plain.__class__ | Should -Be 'app_objects.Plain'
        $s.plain.name | Should -Be 'Ann'
        $s.plain.prefs.theme | Should -Be 'dark'
        $s.slotted.label | Should -Be 'x'
        $s.profile.age | Should -Be 31
        $s.point.__args__ | Should -Be 1, 2
        $s.attrs.__items__.k | Should -Be 'v'
        $s.tags.__items__ | Should -Be 'red', 'blue'
        $s.basket.__items__ | Should -Be 'apple', 'pear'
        $s.registry.__items__.limit | Should -Be 10
        $s.with_kw.__kwargs__.b | Should -Be 2
    }

    It 'gives standard-library values .NET types PowerShell can compare and sort' {
        foreach ($s in $script:All) {
            @($s.ordered.Keys) | Should -Be 'b', 'a'
            $s.counter.a | Should -Be 5
            $s.default.x | Should -Be 1, 2
            $s.deque | Should -Be 1, 2, 3
            $s.zoned | Should -BeOfType [DateTimeOffset]
            $s.zoned.Offset | Should -Be ([timespan]'03:00:00')
            $s.pytz_zoned.Offset | Should -Be ([timespan]'-05:00:00')
            $s.dec_plain | Should -BeOfType [decimal]
            [double]::IsNaN($s.dec_nan) | Should -BeTrue
            $s.ip4 | Should -Be '10.0.0.1'
            $s.iface | Should -Be '192.168.1.5/24'
            $s.posix_path | Should -Be '/srv/app/data.txt'
            $s.span.stop | Should -Be 10
            $s.fraction.denominator | Should -Be 3
            $s.epoch.tm_year | Should -Be 1970
            $s.odd_keys.None | Should -Be 'none'
            $s.odd_keys[7] | Should -Be 'int'
            $s.request_id | Should -BeOfType [guid]
        }
    }

    It 'finds a user by a session key and removes exactly those sessions through the pipeline' {
        $copy = Join-Path $TestDrive 'values-copy'
        Copy-Item -Recurse $script:Values $copy
        $ini = Join-Path $copy 'values-crypto.ini'
        $found = @(Get-BeakerSession $ini -Timeout 0 | Where-Object { $_.plain.name -eq 'Ann' -and $_.role -eq 'Role.EDITOR' })
        $found.Count | Should -Be 3
        $found | Remove-BeakerSession -Confirm:$false
        @(Get-BeakerSession $ini -Timeout 0).Count | Should -Be 0
    }
}

Describe 'Decoded values through PowerShell''s own tools' {
    It 'Format-List and Format-Table show nested values as text, never as .NET type names' {
        $list = $script:All | Format-List * | Out-String -Width 300
        $table = $script:All | Format-Table plain, ordered, role, twice, odd_keys -AutoSize | Out-String -Width 300
        foreach ($text in $list, $table) {
            $text | Should -Not -Match 'System\.Collections|System\.Object\[\]|OrderedDictionary|PythonDict|DictionaryEntry'
            $text | Should -Match 'theme: dark'
        }
        $list | Should -Match ([regex]::Escape('Role.EDITOR'))
        $list | Should -Match ([regex]::Escape('{b: 1, a: 2}'))
        $table | Should -Match ([regex]::Escape('{{a: 1}, {a: 1}}'))
    }

    It 'ConvertTo-Json -Depth 20 works on every session of every store, the committed demo stores too' {
        $demo = @(Get-BeakerSession (Join-Path $script:CommittedStores 'prod.ini') -Timeout 0 -ErrorAction SilentlyContinue)
        foreach ($s in $script:All + $demo) {
            $json = $s | ConvertTo-Json -Depth 20 -WarningAction SilentlyContinue
            $back = $json | ConvertFrom-Json -Depth 100
            $back.BeakerId | Should -Be $s.BeakerId
        }
        $back = $script:All[0] | ConvertTo-Json -Depth 20 -WarningAction SilentlyContinue | ConvertFrom-Json -Depth 100
        $back.plain.__class__ | Should -Be 'app_objects.Plain'
        $back.odd_keys.'(1, ''a'')' | Should -Be 'tuple'
        $back.odd_keys.None | Should -Be 'none'
        $back.ordered.b | Should -Be 1
    }

    It 'Export-Csv writes the nested values as their text, and Export-Clixml brings them back' {
        $csv = Join-Path $TestDrive 'sessions.csv'
        $script:All | Export-Csv $csv
        $rows = @(Import-Csv $csv)
        $rows.Count | Should -Be 4
        $rows[0].ordered | Should -Be '{b: 1, a: 2}'
        $rows[0].role | Should -Be 'Role.EDITOR'

        $xml = Join-Path $TestDrive 'sessions.xml'
        $script:All | Export-Clixml $xml -Depth 5
        $back = @(Import-Clixml $xml)
        $back.Count | Should -Be 4
        $back[0].plain.name | Should -Be 'Ann'
        $back[0].ordered.a | Should -Be 2
    }
}
