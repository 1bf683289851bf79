# How a person names stores and sessions: several ini files, wildcards, the pipeline, -LiteralPath, -Id, and
# removal by id with the counts -WhatIf shows (stores written by real Beaker, in SQLite files).
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Fresh = New-BeakerStore SQLite (Join-Path $TestDrive 'fresh')
    $script:Listed = @(Get-ExpectedRows $script:Fresh.Expected 'sessions.db' | Where-Object kind -In 'session', 'empty')
    $script:CustomListed = @(Get-ExpectedRows $script:Fresh.Expected 'custom.db' -Table 'web_sessions' | Where-Object kind -In 'session', 'empty')
}

Describe 'Naming the ini files' {
    BeforeAll {
        # Two apps, each in its own folder, as /srv/<app>/production.ini; and a name with brackets.
        $script:Root = Join-Path $TestDrive 'srv'
        foreach ($app in 'shop', 'blog') {
            $copy = Copy-BeakerStore $script:Fresh (Join-Path $script:Root $app)
            Rename-Item (Join-Path $copy.Directory 'prod.ini') 'production.ini'
        }
        Copy-Item (Join-Path $script:Root 'shop/production.ini') (Join-Path $script:Root 'shop/prod[1].ini')
        $script:Both = 2 * $script:Listed.Count
    }

    It 'takes several paths, each ini''s sessions in turn' {
        $sessions = @(Get-BeakerSession (Join-Path $script:Root 'shop/production.ini'), (Join-Path $script:Root 'blog/production.ini') -Timeout 0 -ErrorAction SilentlyContinue)
        $sessions.Count | Should -Be $script:Both
        $stores = @($sessions | ForEach-Object { "$($_.BeakerStore)" })
        $first = @($stores | Select-Object -Unique)
        $first.Count | Should -Be 2
        $first[0] | Should -Match 'shop'
        # Each store's sessions come together: the store changes once.
        @(for ($i = 1; $i -lt $stores.Count; $i++) { if ($stores[$i] -ne $stores[$i - 1]) { $i } }).Count | Should -Be 1
    }

    It 'expands wildcards' {
        @(Get-BeakerSession (Join-Path $script:Root '*/production.ini') -Timeout 0 -ErrorAction SilentlyContinue).Count | Should -Be $script:Both
        @(Measure-BeakerSession (Join-Path $script:Root '*/production.ini') -Timeout 0).Count | Should -Be 2
    }

    It 'takes files piped from Get-ChildItem (by PSPath) and paths piped as strings' {
        @(Get-ChildItem (Join-Path $script:Root '*/production.ini') | Get-BeakerSession -Timeout 0 -ErrorAction SilentlyContinue).Count | Should -Be $script:Both
        @((Get-ChildItem (Join-Path $script:Root '*/production.ini')).FullName | Get-BeakerSession -Timeout 0 -ErrorAction SilentlyContinue).Count | Should -Be $script:Both
        @(Get-ChildItem (Join-Path $script:Root '*/production.ini') | Select-Object FullName | Measure-BeakerSession -Timeout 0).Count | Should -Be 2
    }

    It 'binds piped files without prompting, under -NonInteractive' {
        $pattern = Join-Path $script:Root '*/production.ini'
        $run = Invoke-ModuleScript "@(Get-ChildItem '$pattern' | Get-BeakerSession -Timeout 0 -ErrorAction SilentlyContinue).Count"
        $run.ExitCode | Should -Be 0
        $run.Text.Trim() | Should -Be "$script:Both"
    }

    It 'takes -LiteralPath as written, brackets and all' {
        @(Get-BeakerSession -LiteralPath (Join-Path $script:Root 'shop/prod[1].ini') -Timeout 0 -ErrorAction SilentlyContinue).Count | Should -Be $script:Listed.Count
    }

    It 'says when a pattern matches nothing; among several paths the others are still read' {
        { Get-BeakerSession (Join-Path $script:Root 'nosuch*/production.ini') } | Should -Throw -ErrorId 'ConfigFileNotFound,BeakerHelpers.Module.Commands.GetBeakerSessionCommand' -ExpectedMessage '*matches no file*'
        $sessions = @(Get-BeakerSession (Join-Path $script:Root 'nosuch*.ini'), (Join-Path $script:Root 'shop/production.ini') -Timeout 0 -ErrorAction SilentlyContinue -ErrorVariable bad)
        $sessions.Count | Should -Be $script:Listed.Count
        @($bad | Where-Object FullyQualifiedErrorId -like 'ConfigFileNotFound,*').Count | Should -Be 1
    }
}

Describe 'Get-BeakerSession -Id' {
    It 'gives exactly the sessions asked for, looked up by id, and an error for an id the store lacks' {
        $wanted = @($script:Listed | Select-Object -First 2).id
        $sessions = @(Get-BeakerSession $script:Fresh.Ini -Id ($wanted + 'no-such-session') -ErrorAction SilentlyContinue -ErrorVariable bad)
        @($sessions.BeakerId | Sort-Object) | Should -Be @($wanted | Sort-Object)
        @($bad).Count | Should -Be 1
        $bad[0].FullyQualifiedErrorId | Should -Be 'SessionNotFound,BeakerHelpers.Module.Commands.GetBeakerSessionCommand'
        $bad[0].TargetObject | Should -Be 'no-such-session'
    }

    It 'finds old sessions too, whatever the ini''s timeout says' {
        $old = ($script:Listed | Sort-Object age_seconds -Descending | Select-Object -First 1).id
        (Get-BeakerSession $script:Fresh.Ini -Id $old).BeakerId | Should -Be $old
    }

    It 'refuses -Timeout with -Id' {
        { Get-BeakerSession $script:Fresh.Ini -Id x -Timeout 1d } | Should -Throw -ErrorId 'TimeoutWithId,BeakerHelpers.Module.Commands.GetBeakerSessionCommand'
    }
}

Describe 'Removing sessions by id' {
    BeforeEach {
        $script:Store = Copy-BeakerStore $script:Fresh (Join-Path $TestDrive ([guid]::NewGuid()))
        $script:Url = $script:Store.Urls['sessions.db']
        $script:AllIds = Get-StoredId $script:Url
    }

    It '-WhatIf counts the sessions found, names the first few, and counts the ids the store lacks' {
        $ids = @($script:Listed | Select-Object -First 5).id
        $list = ($ids + 'gone-1', 'gone-2' | ForEach-Object { "'$_'" }) -join ','
        $said = (Invoke-ModuleScript "Remove-BeakerSession '$($script:Store.Ini)' -Id $list -WhatIf").Text
        $shown = [regex]::Match($said, 'Remove the 5 session\(s\) found of 7 id\(s\) given \((\w+), (\w+), (\w+), \.\.\. \(2 more\)\)')
        $shown.Success | Should -BeTrue -Because $said
        foreach ($group in $shown.Groups | Select-Object -Skip 1) { $ids | Should -Contain $group.Value }
        Get-StoredId $script:Url | Should -Be $script:AllIds
    }

    It 'removes sessions read back with Import-Clixml when -ConfigPath is given, and reports found against removed' {
        $xml = Join-Path $TestDrive 'sessions.xml'
        Get-BeakerSession $script:Store.Ini -Timeout 0 -ErrorAction SilentlyContinue | Select-Object -First 3 | Export-Clixml $xml
        $ids = @((Import-Clixml $xml).BeakerId)
        $summary = Import-Clixml $xml | Remove-BeakerSession -ConfigPath $script:Store.Ini -PassThru
        $summary.Requested | Should -Be 3
        $summary.Removed | Should -Be 3
        Get-StoredId $script:Url | Should -Be @($script:AllIds | Where-Object { $_ -notin $ids })
        $again = Import-Clixml $xml | Remove-BeakerSession -ConfigPath $script:Store.Ini -PassThru -ErrorAction SilentlyContinue -ErrorVariable gone
        @($gone.TargetObject | Sort-Object) | Should -Be @($ids | Sort-Object)
        $again.Requested | Should -Be 0
        $again.Removed | Should -Be 0
    }

    It 'says to add -ConfigPath or -Url when ids come without their store' {
        { 'abc' | Remove-BeakerSession } | Should -Throw -ErrorId 'StoreRequired,BeakerHelpers.Module.Commands.RemoveBeakerSessionCommand' -ExpectedMessage '*Add -ConfigPath*'
        $xml = Join-Path $TestDrive 'one.xml'
        Get-BeakerSession $script:Store.Ini -Timeout 0 -ErrorAction SilentlyContinue | Select-Object -First 1 | Export-Clixml $xml
        { Import-Clixml $xml | Remove-BeakerSession } | Should -Throw -ErrorId 'StoreRequired,BeakerHelpers.Module.Commands.RemoveBeakerSessionCommand'
        Get-StoredId $script:Url | Should -Be $script:AllIds
    }

    It 'refuses ids with several ini files' {
        { Remove-BeakerSession $script:Store.Ini, $script:Store.Ini -Id x } | Should -Throw -ErrorId 'OneConfigRequired,BeakerHelpers.Module.Commands.RemoveBeakerSessionCommand'
    }

    It 'cleans every store a wildcard names, by age' {
        $custom = $script:Store.Urls['custom.db']
        $summaries = @(Remove-BeakerSession (Join-Path $script:Store.Directory '*.ini') -Timeout 2d -PassThru -ErrorAction SilentlyContinue)
        $summaries.Count | Should -BeGreaterOrEqual 2
        $old = @(Get-ExpectedRows $script:Fresh.Expected 'sessions.db' | Where-Object age_seconds -gt (2 * 86400)).id
        Get-StoredId $script:Url | Should -Be @($script:AllIds | Where-Object { $_ -notin $old })
    }
}
