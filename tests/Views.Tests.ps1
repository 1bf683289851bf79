# What a person sees of the sessions without asking for anything: the default table, Format-List, Measure-Object,
# Export-Csv and ConvertTo-Json, on stores real Beaker wrote (docs/views.md).
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Store = New-BeakerStore SQLite (Join-Path $TestDrive 'store')
    $script:Ini = $script:Store.Ini
    $script:Listed = @(Get-ExpectedRows $script:Store.Expected 'sessions.db' | Where-Object kind -In 'session', 'empty')
    $script:Sessions = @(Get-BeakerSession $script:Ini -Timeout 0 -ErrorAction SilentlyContinue)

    # A store of sessions saved through Beaker with the values a test needs.
    function New-SavedStore([string] $Name, [object[]] $Values) {
        $db = Join-Path $TestDrive "$Name.db"
        $ids = Invoke-BeakerTraffic save "sqlite:///$db" (ConvertTo-Json -InputObject $Values -Depth 5 -Compress) | ConvertFrom-Json
        [pscustomobject]@{ Url = "sqlite:///$db"; Ids = @($ids) }
    }
}

Describe 'The default table of sessions' {
    It 'shows one line per session with its id, times and own keys' {
        $lines = @(($script:Sessions | Out-String -Width 200).Split("`n") | Where-Object { $_.Trim() })
        $lines[0] | Should -Match '^BeakerId\s+BeakerAccessed\s+BeakerCreated\s+Session\s*$'
        $lines.Count | Should -Be (2 + $script:Listed.Count)
        foreach ($row in $script:Listed | Where-Object { $_.values.user_name }) {
            $line = @($lines | Where-Object { $_.StartsWith($row.id) })
            $line.Count | Should -Be 1
            $line[0] | Should -Match ([regex]::Escape("user_name=$($row.values.user_name[1])"))
        }
    }

    It 'leaves out the bookkeeping keys that hold what Beaker always writes, and writes times sortably' {
        $alice = $script:Sessions | Where-Object user_name -eq 'alice@example.com'
        $line = ($alice | Out-String -Width 400).Split("`n") | Where-Object { $_.StartsWith($alice.BeakerId) }
        $line | Should -Not -Match '_accessed_time|_creation_time|_domain|_path='
        $line | Should -Match ([regex]::Escape($alice.BeakerAccessed.ToString('yyyy-MM-dd HH:mm')))
        $line | Should -Match 'roles=\[admin, editor\]'
        $line | Should -Match "display_name='J"
    }

    It 'fits the screen: a long session is cut to the width, never wrapped' {
        $lines = @(($script:Sessions | Out-String -Width 100).Split("`n") | Where-Object { $_.Trim() })
        $lines.Count | Should -Be (2 + $script:Listed.Count)
        ($lines | Measure-Object -Property Length -Maximum).Maximum | Should -BeLessOrEqual 100
    }

    It 'escapes control characters in values instead of sending them to the terminal' {
        $saved = New-SavedStore controls @(@{ user_name = "nul`0bell`a"; note = "line1`nline2`e[31m" })
        $text = Get-BeakerSession -Url $saved.Url -Timeout 0 | Out-String -Width 300
        $text | Should -Not -Match "[`0`a`e]"
        $text | Should -Match ([regex]::Escape('user_name=nul\x00bell\x07'))
        $text | Should -Match ([regex]::Escape('line1\nline2\x1b[31m'))
    }
}

Describe 'Format-List of a session' {
    It "shows that session's id, times and own keys only" {
        $bob = $script:Sessions | Where-Object user_name -eq 'bob@example.com'
        $lines = @(($bob | Format-List | Out-String -Width 200).Split("`n") | Where-Object { $_.Trim() })
        @($lines | ForEach-Object { ($_ -split ':', 2)[0].Trim() }) | Should -Be 'BeakerId', 'BeakerAccessed', 'BeakerCreated', 'user_name', 'visits'
        $alice = $script:Sessions | Where-Object user_name -eq 'alice@example.com'
        $own = @(($alice | Format-List | Out-String -Width 300).Split("`n") | Where-Object { $_ -match '^\S' })
        $keys = @($script:Listed | Where-Object id -eq $alice.BeakerId)[0].values.Keys
        $own.Count | Should -Be (3 + @($keys | Where-Object { $_ -notin '_accessed_time', '_creation_time', '_domain', '_path' }).Count)
        ($alice | Format-List | Out-String -Width 300) | Should -Match 'prefs\s+: \{theme: dark, page_size: 50, nested: \{deep: \[1, \{x: None\}\]\}\}'
    }

    It 'still shows every property with Format-List *' {
        $bob = $script:Sessions | Where-Object user_name -eq 'bob@example.com'
        $text = $bob | Format-List * | Out-String -Width 200
        $text | Should -Match '(?m)^cart\s+:'
        $text | Should -Match '(?m)^BeakerStore\s+:'
    }
}

Describe 'Properties: the union for export, only its own keys per session' {
    It 'counts with Measure-Object -Property only the sessions that hold the key' {
        $holders = @($script:Listed | Where-Object { $_.values.Contains('user_id') }).Count
        $holders | Should -BeGreaterThan 0
        ($script:Sessions | Measure-Object -Property user_id).Count | Should -Be $holders
        ($script:Sessions | Measure-Object -Property user_name).Count | Should -Be @($script:Listed | Where-Object { $_.values.Contains('user_name') }).Count
    }

    It 'keeps the union of keys as columns in Format-Table *, Select-Object * and Export-Csv' {
        $union = @($script:Listed | ForEach-Object { $_.values.Keys } | Sort-Object -Unique)
        $csv = Join-Path $TestDrive 'sessions.csv'
        $script:Sessions | Export-Csv $csv
        $back = @(Import-Csv $csv)
        $back.Count | Should -Be $script:Listed.Count
        $columns = @($back[0].psobject.Properties.Name)
        foreach ($key in $union) { $columns | Should -Contain $key }
        ($script:Sessions[0] | Select-Object *).psobject.Properties.Name | Should -Be $columns
        ($back | Where-Object BeakerId -eq ($script:Sessions | Where-Object user_name -eq 'bob@example.com').BeakerId).user_name | Should -Be 'bob@example.com'
    }

    It 'round-trips through ConvertTo-Json' {
        $json = $script:Sessions | ConvertTo-Json -Depth 10 | ConvertFrom-Json
        @($json).Count | Should -Be $script:Listed.Count
        ($json | Where-Object user_name -eq 'alice@example.com').prefs.nested.deep[0] | Should -Be 1
    }

    It 'shares one key set among sessions that hold the same keys, whichever string objects their keys came as' {
        # A real store interleaves key sets, and the decoder can give a key's text as a new string at any time (docs/views.md#list).
        $set = [BeakerHelpers.Module.Output.SessionPropertySet]::new($false)
        $add = $set.GetType().GetMethod('Add', [Reflection.BindingFlags]'Instance,NonPublic')
        function Add-Keys([string[]] $Keys) {
            $values = [Collections.Generic.List[Collections.Generic.KeyValuePair[string, object]]]::new()
            foreach ($key in $Keys) { $values.Add([Collections.Generic.KeyValuePair[string, object]]::new([string]::new($key.ToCharArray()), 1)) }
            $add.Invoke($set, @(, $values))
        }
        $login = Add-Keys 'user_id', 'csrf_token', 'roles'
        $visitor = Add-Keys 'came_from'
        [object]::ReferenceEquals($login, $visitor) | Should -BeFalse
        foreach ($round in 1..3) {
            [object]::ReferenceEquals((Add-Keys 'user_id', 'csrf_token', 'roles'), $login) | Should -BeTrue
            [object]::ReferenceEquals((Add-Keys 'came_from'), $visitor) | Should -BeTrue
        }
        # The same keys in another order are another set (their columns and list view follow the session's order).
        [object]::ReferenceEquals((Add-Keys 'roles', 'user_id', 'csrf_token'), $login) | Should -BeFalse
    }

    It 'names a key that collides with another by case or with a Beaker* property the same way in every call' {
        $saved = New-SavedStore collide @(@{ user = 'lower' }, @{ User = 'upper'; BeakerId = 'mine' }, @{ beakerstore = 'x' })
        $all = @(Get-BeakerSession -Url $saved.Url -Timeout 0)
        $names = @($all[0].psobject.Properties.Name)
        $names | Should -Contain 'user'
        $suffixed = @($names | Where-Object { $_ -like 'BeakerId~*' -or $_ -like 'beakerstore~*' -or $_ -like 'User~*' })
        $suffixed.Count | Should -Be 3
        ($all | Where-Object user -eq 'lower').BeakerId | Should -Be $saved.Ids[0]
        $upper = $names | Where-Object { $_ -like 'User~*' }
        ($all | Where-Object BeakerId -eq $saved.Ids[1]).$upper | Should -Be 'upper'
        # Listed alone (without the session holding 'user'), the keys keep their names, except where only case told them apart.
        $second = Get-BeakerSession -Url $saved.Url -Timeout 0 | Where-Object BeakerId -eq $saved.Ids[1]
        $ownId = @($names -like "BeakerId~*")
        $ownId.Count | Should -Be 1
        $second.psobject.Properties.Name | Should -Contain $ownId[0]
        $second.($ownId[0]) | Should -Be 'mine'
    }
}
