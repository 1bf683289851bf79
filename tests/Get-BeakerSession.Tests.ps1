BeforeDiscovery {
    $script:Backends = 'SQLite', 'PostgreSQL', 'MariaDB'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    # Fresh stores, so that ages are relative to now; the committed ones test the same reader without Python.
    $script:Fresh = Join-Path $TestDrive 'fresh'
    $script:Expected = New-BeakerFixture $script:Fresh
    $script:Committed = Get-Content -Raw (Join-Path $script:CommittedStores 'expected.json') | ConvertFrom-Json -AsHashtable
}

Describe 'Get-BeakerSession on <_>, with stores written by real Beaker' -ForEach $Backends {
    BeforeAll {
        $script:Store = New-BeakerStore $_ (Join-Path $TestDrive "store-$_")
        $script:Ini = $script:Store.Ini
        $script:Exp = $script:Store.Expected
    }

    It 'lists every session row, skipping the cache row and reporting the bad ones' {
        $sessions = Get-BeakerSession -ConfigPath $script:Ini -Timeout 0 -ErrorVariable bad -ErrorAction SilentlyContinue
        $wanted = Get-ExpectedRows $script:Exp 'sessions.db' | Where-Object kind -In 'session', 'empty'
        @($sessions.BeakerId | Sort-Object) | Should -Be @($wanted.id | Sort-Object)
        $corrupt = @(Get-ExpectedRows $script:Exp 'sessions.db' -Kind corrupt)
        $bad.Count | Should -Be (1 + $corrupt.Count)
        ($bad | Where-Object { $_.TargetObject -eq (Get-ExpectedRows $script:Exp 'sessions.db' -Kind encrypted).id }).FullyQualifiedErrorId | Should -Be 'SessionEncrypted,BeakerHelpers.Module.Commands.GetBeakerSessionCommand'
        foreach ($row in $corrupt) {
            ($bad | Where-Object { $_.TargetObject -eq $row.id }).FullyQualifiedErrorId | Should -Be 'SessionCorrupt,BeakerHelpers.Module.Commands.GetBeakerSessionCommand'
        }
    }

    It 'reads the ext:sqla layout (namespace as primary key, no id column)' {
        $sessions = Get-BeakerSession -Url $script:Store.Urls['custom.db'] -TableName sqla_sessions -Timeout 0
        @($sessions.user_name | Sort-Object) | Should -Be 'sqla1', 'sqla2'
        @(Get-BeakerSession -Url $script:Store.Urls['custom.db'] -TableName sqla_sessions -Timeout 1d).user_name | Should -Be 'sqla1'
    }

    It 'gives each session key as a typed property' {
        $rich = Get-BeakerSession -ConfigPath $script:Ini -Timeout 0 -ErrorAction SilentlyContinue | Where-Object user_name -eq 'alice@example.com'
        $rich.pstypenames[0] | Should -Be 'BeakerHelpers.Session'
        $rich.user_id | Should -BeOfType [long]
        $rich.user_id | Should -Be 1001
        $rich.display_name | Should -BeExactly "J$([char]0xfc)rgen $([char]0x65e5)$([char]0x672c) $([char]::ConvertFromUtf32(0x1F600))"
        $rich.roles | Should -Be @('admin', 'editor')
        $rich.big | Should -Be ([bigint]::Pow(2, 80))
        $rich.ratio | Should -Be 0.1
        $rich.active | Should -BeTrue
        $rich.banned | Should -BeFalse
        $rich.nothing | Should -BeNullOrEmpty
        $rich.token | Should -Be ([byte[]](0, 255) + [Text.Encoding]::ASCII.GetBytes('csrf'))
        $rich.last_login | Should -Be ([datetime]'2024-02-29T13:45:30.123456')
        $rich.tz_login | Should -BeOfType [DateTimeOffset]
        $rich.tz_login.Offset | Should -Be ([timespan]'02:00:00')
        $rich.price | Should -Be ([decimal]'19.99')
        $rich.request_id | Should -Be ([guid]'12345678-1234-5678-1234-567812345678')
        $rich.prefs.theme | Should -Be 'dark'
        $rich.prefs.nested.deep[0] | Should -Be 1
        $rich.cart.__class__ | Should -Be '__main__.Cart'
        $rich.cart.items | Should -Be @('apple', 'pear')
        $rich._accessed_time | Should -BeOfType [datetime]
        $row = Get-ExpectedRows $script:Exp 'sessions.db' | Where-Object id -eq $rich.BeakerId
        $accessed = [DateTimeOffset]::FromUnixTimeMilliseconds([long]([double]$row.values._accessed_time[1] * 1000)).LocalDateTime
        [math]::Abs(($rich._accessed_time - $accessed).TotalMilliseconds) | Should -BeLessThan 1
        ($rich.BeakerAccessed - $rich.BeakerCreated).TotalHours | Should -BeGreaterThan 0.99
    }

    It 'gives every session of one call the same columns, the sorted union of the keys' {
        $sessions = Get-BeakerSession $script:Ini -Timeout 0 -ErrorAction SilentlyContinue
        $names = @($sessions[0].psobject.Properties.Name)
        $keys = @($names | Where-Object { $_ -notlike 'Beaker*' })
        $keys | Should -Contain 'cart'
        $keys | Should -Contain 'visits'
        $keys | Should -Contain 'list'
        $sorted = [string[]]$keys.Clone()
        [Array]::Sort($sorted, [StringComparer]::Ordinal)
        $keys | Should -Be $sorted
        $names[-4..-1] | Should -Be 'BeakerId', 'BeakerAccessed', 'BeakerCreated', 'BeakerStore'
        foreach ($session in $sessions) { @($session.psobject.Properties.Name) | Should -Be $names }
        # PowerShell's Format-Table shows at most 10 columns unless told which: '*' asks for all of them.
        $table = $sessions | Format-Table -Property * | Out-String -Width 4000
        $table | Should -Match 'user_name'
        $table | Should -Match 'cart'
        $table | Should -Match '\{admin, editor\}'
    }

    It 'lists oldest access first' {
        $sessions = Get-BeakerSession $script:Ini -Timeout 0 -ErrorAction SilentlyContinue
        @($sessions.BeakerAccessed) | Should -Be @($sessions.BeakerAccessed | Sort-Object)
    }

    It 'filters by -Timeout <_> in the database' -ForEach '3600s', '36h', '2d', '3600', '0' {
        $timeout = $_
        $seconds = switch -Regex ($timeout) { '^0$' { [double]::MaxValue } 's$' { 3600 } 'h$' { 36 * 3600 } 'd$' { 2 * 86400 } default { 3600 } }
        $wanted = Get-ExpectedRows $script:Exp 'sessions.db' | Where-Object { $_.kind -in 'session', 'empty' -and $_.age_seconds -lt $seconds - 60 }
        $sessions = Get-BeakerSession $script:Ini -Timeout $timeout -ErrorAction SilentlyContinue
        @($sessions.BeakerId | Sort-Object) | Should -Be @($wanted.id | Sort-Object)
    }

    It 'takes timeouts typed as PowerShell literals (2d is a [decimal], 3s a [short] to PowerShell)' {
        $ini = $script:Ini
        $all = Get-ExpectedRows $script:Exp 'sessions.db' | Where-Object kind -In 'session', 'empty'
        @(Get-BeakerSession $ini -Timeout 2d -ErrorAction SilentlyContinue).Count | Should -Be @($all | Where-Object age_seconds -lt (2 * 86400 - 60)).Count
        @(Get-BeakerSession $ini -Timeout 36h -ErrorAction SilentlyContinue).Count | Should -Be @($all | Where-Object age_seconds -lt (36 * 3600 - 60)).Count
        @(Get-BeakerSession $ini -Timeout 3600s -ErrorAction SilentlyContinue).Count | Should -Be @($all | Where-Object age_seconds -lt 3540).Count
        @(Get-BeakerSession $ini -Timeout 119m -ErrorAction SilentlyContinue).Count | Should -Be @($all | Where-Object age_seconds -lt 7080).Count
        @(Get-BeakerSession $ini -Timeout 86400 -ErrorAction SilentlyContinue).Count | Should -Be @($all | Where-Object age_seconds -lt 86340).Count
        $seconds = 60
        @(Get-BeakerSession $ini -Timeout $seconds -ErrorAction SilentlyContinue).Count | Should -Be @($all | Where-Object age_seconds -lt 60).Count
    }

    It 'takes a [TimeSpan] timeout' {
        $sessions = Get-BeakerSession $script:Ini -Timeout ([timespan]::FromHours(1)) -ErrorAction SilentlyContinue
        $wanted = Get-ExpectedRows $script:Exp 'sessions.db' | Where-Object { $_.kind -in 'session', 'empty' -and $_.age_seconds -lt 3540 }
        @($sessions.BeakerId | Sort-Object) | Should -Be @($wanted.id | Sort-Object)
    }

    It 'uses beaker.session.timeout from the ini when -Timeout is not given' {
        $sessions = Get-BeakerSession $script:Ini -ErrorAction SilentlyContinue
        $wanted = Get-ExpectedRows $script:Exp 'sessions.db' | Where-Object { $_.kind -in 'session', 'empty' -and $_.age_seconds -le 3600 }
        @($sessions.BeakerId | Sort-Object) | Should -Be @($wanted.id | Sort-Object)
    }

    It 'shows a deleted session with empty times' {
        $gone = Get-BeakerSession $script:Ini -Timeout 0 -ErrorAction SilentlyContinue |
            Where-Object BeakerId -eq (Get-ExpectedRows $script:Exp 'sessions.db' | Where-Object { $_.values -and $_.values.Count -eq 2 }).id
        $gone | Should -Not -BeNullOrEmpty
        $gone._accessed_time | Should -BeNullOrEmpty
        $gone._path | Should -Be '/'
    }

    It 'reads every pickle protocol from 0 to 5 with -Url' -ForEach 0, 1, 2, 3, 4, 5 {
        $session = Get-BeakerSession -Url $script:Store.Urls['protocols.db'] -TableName "beaker_p$_" -Timeout 0
        $session.user_name | Should -Be "p$_@example.com"
        $session.display_name | Should -BeExactly "J$([char]0xfc)rgen"
        $session.when | Should -Be ([datetime]'2023-01-02T03:04:05')
        $session.ids | Should -Be @(1, [long][math]::Pow(2, 40))
    }

}

Describe 'Get-BeakerSession on the committed SQLite stores (no Python needed)' {
    It 'lists every session row, skipping the cache row and reporting the bad ones' {
        $sessions = Get-BeakerSession -ConfigPath (Join-Path $script:CommittedStores 'prod.ini') -Timeout 0 -ErrorVariable bad -ErrorAction SilentlyContinue
        $wanted = Get-ExpectedRows $script:Committed 'sessions.db' | Where-Object kind -In 'session', 'empty'
        @($sessions.BeakerId | Sort-Object) | Should -Be @($wanted.id | Sort-Object)
        $bad.Count | Should -Be 2
    }
}

Describe 'Reading settings as paste.deploy does' {
    It 'selects [app:admin] with #admin and another prefix' {
        $sessions = Get-BeakerSession ((Join-Path $script:Fresh 'multi.ini') + '#admin') -Prefix bkr.session -Timeout 0
        @($sessions.user_name | Sort-Object) | Should -Be 'admin1', 'admin2'
        $sessions[0].is_admin | Should -BeTrue
    }

    It 'reads the other prefix of the same section' {
        $sessions = Get-BeakerSession ((Join-Path $script:Fresh 'multi.ini') + '#admin') -Timeout 0 -ErrorAction SilentlyContinue
        $sessions.BeakerStore | Select-Object -First 1 | Should -Match 'sessions\.db'
    }

    It 'follows use = config: with the included file''s own %(here)s' {
        $sessions = Get-BeakerSession (Join-Path $script:Fresh 'include.ini') -Timeout 0
        @($sessions.user_name | Sort-Object) | Should -Be 'admin1', 'admin2'
    }

    It 'resolves a relative sqlite:/// URL against the current location' {
        Push-Location $script:Fresh
        $wanted = @(Get-ExpectedRows $script:Expected 'custom.db' 'web_sessions' -Kind session)
        try { @(Get-BeakerSession -Url 'sqlite:///custom.db' -TableName web_sessions -Timeout 0).BeakerId | Sort-Object | Should -Be @($wanted.id | Sort-Object) }
        finally { Pop-Location }
    }

    It 'takes a path relative to the current location' {
        Push-Location $script:Fresh
        try { @(Get-BeakerSession ./prod.ini -Timeout 0 -ErrorAction SilentlyContinue).Count | Should -BeGreaterThan 5 }
        finally { Pop-Location }
    }

    It 'lets [DEFAULT] win over the app section, as paste.deploy does' {
        $ini = Join-Path $TestDrive 'defaults.ini'
        Set-Content $ini @"
[DEFAULT]
beaker.session.table_name = web_sessions

[app:main]
beaker.session.type = ext:database
beaker.session.url = sqlite:///$(Join-Path $script:Fresh 'custom.db')
beaker.session.table_name = no_such_table
"@
        @(Get-BeakerSession $ini -Timeout 0).BeakerId | Sort-Object | Should -Be @((Get-ExpectedRows $script:Expected 'custom.db' 'web_sessions' -Kind session).id | Sort-Object)
    }
}

Describe 'Bad input gets a clear error' {
    It '<Name>' -ForEach @(
        @{ Name = 'a missing ini file'; Ini = $null; Path = 'nope.ini'; Id = 'ConfigFileNotFound'; Text = 'nope.ini' }
        @{ Name = 'a missing app section'; Path = 'prod.ini#nothere'; Id = 'ConfigSectionNotFound'; Text = 'app:nothere' }
        @{ Name = 'a composite without #name'; Path = 'multi.ini'; Id = 'ConfigCompositeApp'; Text = '#<name>' }
        @{ Name = 'a prefix with no settings'; Path = 'prod.ini'; Prefix = 'nothing.here'; Id = 'SettingMissing'; Text = 'nothing.here' }
    ) {
        $params = @{ ConfigPath = (Join-Path $script:Fresh $Path) }
        if ($Prefix) { $params.Prefix = $Prefix }
        $err = { Get-BeakerSession @params } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -Be "$Id,BeakerHelpers.Module.Commands.GetBeakerSessionCommand"
        $err.Exception.Message | Should -BeLike "*$Text*"
    }

    It 'a missing database file, which it does not create' {
        $ini = Join-Path $TestDrive 'missing-db.ini'
        $db = Join-Path $TestDrive 'absent.db'
        Set-Content $ini "[app:main]`nbeaker.session.type = ext:database`nbeaker.session.url = sqlite:///$db"
        { Get-BeakerSession $ini } | Should -Throw -ErrorId 'StoreNotFound,BeakerHelpers.Module.Commands.GetBeakerSessionCommand'
        Test-Path $db | Should -BeFalse
    }

    It 'a missing table, named with its file' {
        $err = { Get-BeakerSession -Url ('sqlite:///' + (Join-Path $script:Fresh 'sessions.db')) -TableName ghosts } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'TableNotFound,*'
        $err.Exception.Message | Should -BeLike "*'ghosts'*"
        $err.Exception.Message | Should -BeLike '*sessions.db*'
    }

    It 'a timeout of <_>, quoted with the accepted forms' -ForEach '2x', 'soon', '1y', 'P1M' {
        $err = { Get-BeakerSession (Join-Path $script:Fresh 'prod.ini') -Timeout $_ } | Should -Throw -PassThru
        $err.Exception.Message | Should -BeLike "*'$_'*36h*"
    }

    It 'an unsupported dialect, without its password' {
        $err = { Get-BeakerSession -Url 'oracle://scott:tiger@db.example.com/orcl' } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'DialectNotSupported,*'
        $err.Exception.Message | Should -BeLike "*oracle*sqlite*"
        $err.Exception.Message | Should -Not -BeLike '*tiger*'
    }

    It 'a bad timeout in the ini file, naming the setting' {
        $ini = Join-Path $TestDrive 'bad-timeout.ini'
        Set-Content $ini "[app:main]`nbeaker.session.type = ext:database`nbeaker.session.url = sqlite:///x.db`nbeaker.session.timeout = 1h"
        $err = { Get-BeakerSession $ini } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'ConfigTimeoutInvalid,*'
        $err.Exception.Message | Should -BeLike '*beaker.session.timeout*1h*'
    }
}

Describe 'MariaDB tables read in two parts at once (docs/listing-order.md#parts)' {
    BeforeAll {
        $script:Store = New-BeakerStore 'MariaDB' (Join-Path $TestDrive 'store-parts')
        $script:Whole = Get-BeakerSession -ConfigPath $script:Store.Ini -Timeout 0 -ErrorAction SilentlyContinue
        $script:WholeSqla = Get-BeakerSession -Url $script:Store.Urls['custom.db'] -TableName sqla_sessions -Timeout 0
        # Only tables the server estimates at 64 MB or more are read in parts: lowered here, for this process only
        # (the module's core is loaded once it has listed).
        $core = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'BeakerHelpers.Core' } | Select-Object -First 1
        $script:Threshold = $core.GetType('BeakerHelpers.Core.Stores.Sql.SqlSessionStore').GetProperty('ReadInPartsFromBytes', [Reflection.BindingFlags]'Static,NonPublic')
        $script:Threshold.GetValue($null) | Should -Be (64MB)
        $script:Threshold.SetValue($null, [long]0)
    }
    AfterAll {
        $script:Threshold.SetValue($null, [long](64MB))
    }

    It 'lists the same sessions in the same order, oldest first, with the same errors (ext:database: halves by id)' {
        $whole = @($script:Whole)
        $whole.Count | Should -BeGreaterThan 5
        $parts = @(Get-BeakerSession -ConfigPath $script:Store.Ini -Timeout 0 -ErrorVariable bad -ErrorAction SilentlyContinue)
        $parts.BeakerId | Should -Be $whole.BeakerId
        $parts.BeakerAccessed | Should -Be @($parts.BeakerAccessed | Sort-Object)
        ($parts | ConvertTo-Json -Depth 4 -WarningAction SilentlyContinue) | Should -Be ($whole | ConvertTo-Json -Depth 4 -WarningAction SilentlyContinue)
        $corrupt = @(Get-ExpectedRows $script:Store.Expected 'sessions.db' -Kind corrupt)
        $bad.Count | Should -Be (1 + $corrupt.Count)
    }

    It 'reads through its one connection when the server refuses a second (max_user_connections 1)' {
        $admin = [uri]((Get-ServerAdminUrl 'MariaDB') -replace '^[a-z0-9+]+://', 'http://')
        $db = ([uri]($script:Store.Urls['sessions.db'] -replace '^[a-z0-9+]+://', 'http://')).AbsolutePath.Trim('/')
        $env:MYSQL_PWD = [uri]::UnescapeDataString($admin.UserInfo.Split(':')[1])
        try {
            $output = mariadb --no-defaults -h $admin.Host -P $admin.Port -u ([uri]::UnescapeDataString($admin.UserInfo.Split(':')[0])) -e "CREATE USER 'one_connection'@'127.0.0.1' IDENTIFIED BY 'only1' WITH MAX_USER_CONNECTIONS 1; GRANT SELECT ON ``$db``.* TO 'one_connection'@'127.0.0.1';" 2>&1
            $LASTEXITCODE | Should -Be 0 -Because "$output"
        }
        finally { Remove-Item Env:MYSQL_PWD }
        $sessions = @(Get-BeakerSession -Url "mysql://one_connection:only1@$($admin.Host):$($admin.Port)/$db" -Timeout 0 -ErrorAction SilentlyContinue)
        $sessions.BeakerId | Should -Be @($script:Whole.BeakerId)
    }

    It 'lists the same with -Timeout, and ext:sqla tables (halves by namespace)' {
        @(Get-BeakerSession -ConfigPath $script:Store.Ini -Timeout 2d -ErrorAction SilentlyContinue).BeakerId | Should -Be @($script:Whole | Where-Object BeakerAccessed -ge (Get-Date).AddDays(-2).AddMinutes(1)).BeakerId
        @(Get-BeakerSession -Url $script:Store.Urls['custom.db'] -TableName sqla_sessions -Timeout 0).user_name | Should -Be @($script:WholeSqla.user_name)
    }
}

Describe 'Server problems on <_> get clear errors, never with the password' -ForEach 'PostgreSQL', 'MariaDB' {
    BeforeAll {
        $script:Store = New-BeakerStore $_ (Join-Path $TestDrive "server-$_")
        $script:Url = $script:Store.Urls['sessions.db']
        $script:Database = "$($script:Store.Name)_sessions"
        $script:EncodedPassword = ([regex]::Match($script:Url, '://[^:]+:([^@]+)@')).Groups[1].Value
        $script:Password = [uri]::UnescapeDataString($script:EncodedPassword)
        $script:Port = [int]([regex]::Match($script:Url, '@[^:/]+:(\d+)/')).Groups[1].Value
    }

    It 'a wrong password: the server''s reason, host, database and user, but no password' {
        $url = $script:Url.Replace($script:EncodedPassword, 'wrong%40pw')
        $err = { Get-BeakerSession -Url $url } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'StoreConnectFailed,*'
        $message = $err.Exception.Message
        $message | Should -BeLike "*127.0.0.1:$($script:Port)/$($script:Database)*beaker_app*(password from -Url)*"
        $message | Should -Match 'password authentication failed|Access denied'
        $message | Should -Not -BeLike '*wrong@pw*'
        $message | Should -Not -BeLike '*wrong%40pw*'
    }

    It 'a server that is not listening' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start(); $free = $listener.LocalEndpoint.Port; $listener.Stop()
        $err = { Get-BeakerSession -Url ($script:Url -replace ":$($script:Port)/", ":$free/") } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'StoreConnectFailed,*'
        $err.Exception.Message | Should -BeLike "*127.0.0.1:$free*"
        # Npgsql passes the socket's reason on; MySqlConnector only says that it could not connect.
        $err.Exception.Message | Should -Match 'refused|No MySQL server accepted a connection'
    }

    It 'an unknown database' {
        $err = { Get-BeakerSession -Url ($script:Url -replace '/[^/]+$', '/no_such_db') } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'StoreConnectFailed,*'
        $err.Exception.Message | Should -BeLike '*no_such_db*'
    }

    It 'a missing table, named with the database' {
        $err = { Get-BeakerSession -Url $script:Url -TableName 'ghosts' } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'TableNotFound,*'
        $err.Exception.Message | Should -BeLike "*'ghosts'*"
        $err.Exception.Message | Should -BeLike "*$($script:Database)*"
    }

    It 'a table name that would be SQL is only ever a name' {
        $err = { Get-BeakerSession -Url $script:Url -TableName 'beaker_cache; DROP TABLE beaker_cache; --' } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'TableNotFound,*'
        @(Get-BeakerSession -Url $script:Url -Timeout 0 -ErrorAction SilentlyContinue).Count | Should -BeGreaterThan 5
    }

    It 'never shows the password in verbose output or in the objects' {
        $output = Get-BeakerSession $script:Store.Ini -Timeout 0 -Verbose -ErrorAction SilentlyContinue -ErrorVariable bad 4>&1
        $text = ($output | ForEach-Object { if ($_ -is [System.Management.Automation.VerboseRecord]) { $_.Message } else { $_.BeakerStore.ToString() } }) -join "`n"
        $text += ($bad | ForEach-Object { $_.Exception.Message }) -join "`n"
        $text | Should -BeLike "*$($script:Database)*"
        $text | Should -Not -BeLike "*$($script:Password)*"
        $text | Should -Not -BeLike "*$($script:EncodedPassword)*"
    }

    It 'reports URL options it ignores in the verbose output' {
        $output = Get-BeakerSession -Url ($script:Url + '?connect_timeout=5&frobnicate=1') -Timeout 0 -Verbose -ErrorAction SilentlyContinue 4>&1
        ($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join "`n" | Should -BeLike "*option 'frobnicate'*"
    }
}

Describe 'PostgreSQL schemas' {
    BeforeAll {
        $script:Store = New-BeakerStore PostgreSQL (Join-Path $TestDrive 'schema')
    }

    It 'reads a table in the schema given by -SchemaName' {
        $sessions = Get-BeakerSession -Url $script:Store.Urls['custom.db'] -SchemaName websessions -Timeout 0
        @($sessions.user_name | Sort-Object) | Should -Be 'schema1', 'schema2'
        $sessions[0].BeakerStore | Should -BeLike '*table websessions.beaker_cache*'
    }

    It 'removes from that schema only' {
        $copy = Copy-BeakerStore $script:Store (Join-Path $TestDrive 'schema-copy')
        Remove-BeakerSession -Url $copy.Urls['custom.db'] -SchemaName websessions -Timeout 2d
        (Get-BeakerSession -Url $copy.Urls['custom.db'] -SchemaName websessions -Timeout 0).user_name | Should -Be 'schema1'
        @(Get-StoredId $copy.Urls['custom.db'] 'web_sessions').Count | Should -Be 2
    }

    It 'a missing schema is an error naming the schema and the table' {
        $err = { Get-BeakerSession -Url $script:Store.Urls['custom.db'] -SchemaName nowhere } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'TableNotFound,*'
        $err.Exception.Message | Should -BeLike "*schema 'nowhere'*beaker_cache*"
    }
}

Describe 'The module as a user meets it' {
    It 'imports in a fresh pwsh and lists sessions there' {
        $ini = Join-Path $script:Fresh 'prod.ini'
        $run = Invoke-ModuleScript "(Get-BeakerSession '$ini' -Timeout 0 -ErrorAction SilentlyContinue | Measure-Object).Count"
        $run.ExitCode | Should -Be 0
        [int]($run.Lines | Select-Object -Last 1) | Should -Be @(Get-ExpectedRows $script:Expected 'sessions.db' | Where-Object kind -In 'session', 'empty').Count
    }

    It 'runs the README demo (build.ps1 -Task Demo)' {
        $output = dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot '../build.ps1') -Task Demo -NoBuild 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0
        $output | Should -Match 'alice@example.com'
        $output | Should -Match 'grace@example.com'
        # The sessions first, then one line about the planted rows, and no error record before any session.
        $output | Should -Match '(?s)alice@example\.com.*The demo store also holds 2 rows planted to show what the module cannot read.*\((SessionEncrypted|SessionCorrupt)\)'
        $output | Should -Not -Match 'Get-BeakerSession:'
    }

    It 'has full help for <_>: synopsis, every parameter described, at least four examples' -ForEach 'Get-BeakerSession', 'Remove-BeakerSession' {
        $help = Get-Help $_ -Full
        $help.Synopsis | Should -Match 'Beaker'
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 4
        $common = [System.Management.Automation.Cmdlet]::CommonParameters
        $names = @((Get-Command $_).Parameters.Keys | Where-Object { $_ -notin $common })
        $names | Should -Contain 'TimeZone'
        foreach ($name in $names) {
            ($help.parameters.parameter | Where-Object name -eq $name).description | Should -Not -BeNullOrEmpty -Because "-$name needs a description"
        }
    }

    It 'never shows the password of a URL in verbose output or objects' {
        $verbose = Get-BeakerSession -Url ('sqlite:///' + (Join-Path $script:Fresh 'custom.db') + '?password=hunter2') -TableName web_sessions -Timeout 0 -Verbose 4>&1
        ($verbose | Out-String) | Should -Not -BeLike '*hunter2*'
    }
}
