# Beaker's ext:memcached store on two private memcached servers: sessions saved by the real Beaker library through
# python-memcached and pylibmc (Debian python3-memcache, python3-pylibmc), plain and encrypted, spread over both
# servers by the client libraries; keys that are not sessions are never touched.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Urls = Get-ServerAdminUrl Memcached
    $script:Writer = Join-Path $PSScriptRoot 'fixtures/memcached_sessions.py'
    $script:CommandId = 'BeakerHelpers.Module.Commands.RemoveBeakerSessionCommand'

    function Invoke-Memcached([string] $Command, [string] $IdsPath) {
        $output = & /usr/bin/python3 $script:Writer $Command $script:Urls $IdsPath 2>&1
        if ($LASTEXITCODE -ne 0) { throw "memcached_sessions.py $Command failed: $output" }
        $output
    }

    function New-MemcachedStore {
        $dir = New-Item -ItemType Directory (Join-Path $TestDrive ([guid]::NewGuid().ToString('n')))
        $ids = Join-Path $dir 'ids.json'
        $null = Invoke-Memcached seed $ids
        $ini = Join-Path $dir 'app.ini'
        "[app:main]`nuse = egg:app`nbeaker.session.type = ext:memcached`nbeaker.session.url = $script:Urls`nbeaker.session.timeout = 3600`n" | Set-Content $ini
        $keys = Join-Path $dir 'keys.ini'
        (Get-Content -Raw $ini) + "beaker.session.encrypt_key = memcached-encrypt-key-0123456789abcdef`nbeaker.session.validate_key = memcached-validate-key-0123456789abcdef`n" | Set-Content $keys
        [pscustomobject]@{ Ini = $ini; WithKeys = $keys; IdsPath = $ids; Ids = Get-Content -Raw $ids | ConvertFrom-Json }
    }
}

Describe 'memcached stores (ext:memcached)' {
    BeforeEach {
        $script:Store = New-MemcachedStore
    }

    It 'lists every session Beaker saved on both servers, oldest first, aged by its _accessed_time, and nothing else' {
        $sessions = @(Get-BeakerSession $script:Store.WithKeys -Timeout 0)
        $expected = @($script:Store.Ids.old) + @($script:Store.Ids.young) + @($script:Store.Ids.encrypted)
        @($sessions.BeakerId | Sort-Object) | Should -Be @($expected | Sort-Object)
        $accessed = @($sessions.BeakerAccessed)
        for ($i = 1; $i -lt $accessed.Count; $i++) { $accessed[$i] | Should -BeGreaterOrEqual $accessed[$i - 1] }
        $sessions[0].BeakerId | Should -Be $script:Store.Ids.encrypted[0]
        $sessions[0].user_name | Should -Be 'encrypted@example.com'
        ($sessions | Where-Object user_name -like 'pylibmc-*').Count | Should -Be 6
        ($sessions | Where-Object user_name -like 'memcache-*').Count | Should -Be 6
        $sessions[0].BeakerStore | Should -BeLike 'memcached 127.0.0.1:*, 127.0.0.1:*'
        $verbose = Get-BeakerSession $script:Store.WithKeys -Timeout 0 -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        ($verbose.Message | Where-Object { $_ -match 'key\(s\) that are not sessions' } | ForEach-Object { [int]($_ -replace '^.*: (\d+) key.*$', '$1') } | Measure-Object -Sum).Sum | Should -Be 3
        @(Get-BeakerSession $script:Store.WithKeys).Count | Should -Be @($script:Store.Ids.young).Count
    }

    It 'removes exactly the sessions older than the timeout on every server, never another key, and Beaker still loads the rest' {
        $summary = Remove-BeakerSession $script:Store.WithKeys -PassThru
        $summary.Removed | Should -Be (@($script:Store.Ids.old).Count + 1)
        $check = Invoke-Memcached check $script:Store.IdsPath | ConvertFrom-Json
        @($check.loaded | Sort-Object) | Should -Be @($script:Store.Ids.young | Sort-Object)
        @($check.strays).Count | Should -Be 3
    }

    It 'without the keys, leaves the encrypted session it cannot date; measures what the servers hold' {
        $statistics = Measure-BeakerSession $script:Store.Ini
        $statistics.TotalRows | Should -Be 13
        # The encrypted session cannot be dated without the keys: it is not counted old.
        $statistics.Old | Should -Be 6
        # What sessions take of the servers: the test servers run with -m 64 each.
        $statistics.ServerLimitBytes | Should -Be (2 * 64MB)
        $statistics.ServerBytes | Should -BeGreaterThan $statistics.PayloadBytes
        $statistics.Evictions | Should -Be 0
        # Server by server: the client libraries spread the sessions over both; the figures add up to the store's.
        $statistics.Servers.Count | Should -Be 2
        @($statistics.Servers.Server | Sort-Object) | Should -Be @($script:Urls -split ';' | Sort-Object)
        ($statistics.Servers | Measure-Object Sessions -Sum).Sum | Should -Be 13
        ($statistics.Servers | Measure-Object SessionBytes -Sum).Sum | Should -Be $statistics.PayloadBytes
        ($statistics.Servers | Measure-Object Bytes -Sum).Sum | Should -Be $statistics.ServerBytes
        foreach ($server in $statistics.Servers) { $server.Sessions | Should -BeGreaterThan 0; $server.LimitBytes | Should -Be 64MB; $server.Bytes | Should -BeGreaterThan $server.SessionBytes }
        $summary = Remove-BeakerSession $script:Store.Ini -PassThru 3>$null
        $summary.Removed | Should -Be @($script:Store.Ids.old).Count
        $check = Invoke-Memcached check $script:Store.IdsPath | ConvertFrom-Json
        $check.loaded | Should -Contain $script:Store.Ids.encrypted[0]
    }

    It 'removes the sessions piped from Get-BeakerSession and by -Id, and only those' {
        $chosen = @($script:Store.Ids.young)[0..1]
        $removed = (Get-BeakerSession $script:Store.Ini -Id $chosen | Remove-BeakerSession -PassThru).Removed
        $removed | Should -Be 2
        (Remove-BeakerSession $script:Store.Ini -Id @($script:Store.Ids.young)[2] -PassThru).Removed | Should -Be 1
        $check = Invoke-Memcached check $script:Store.IdsPath | ConvertFrom-Json
        foreach ($id in $chosen + @(@($script:Store.Ids.young)[2])) { $check.loaded | Should -Not -Contain $id }
        @($check.loaded).Count | Should -Be (13 - 3)
    }

    It 'keeps every session a live Beaker process saves meanwhile, and removes every old one' {
        foreach ($server in $script:Urls -split ';') { $null = & /usr/bin/python3 -c "import memcache; memcache.Client(['$server']).flush_all()" }
        $dir = New-Item -ItemType Directory (Join-Path $TestDrive 'traffic')
        $ids = Join-Path $dir 'traffic.json'
        $store = "memcached:$script:Urls"
        Invoke-BeakerTraffic seed $store 3000 20 $ids | Out-Null
        $run = Invoke-DuringBeakerWrites $store $ids $dir { Remove-BeakerSession $script:Store.Ini -Timeout 1d -BatchSize 50 -PassThru }
        $run.Writes.errors | Should -BeNullOrEmpty
        $run.SavesDuring | Should -BeGreaterThan 0
        $run.Output.Removed | Should -Be 3000
        $check = Invoke-BeakerTraffic check $store $ids | ConvertFrom-Json
        $check.missing | Should -BeNullOrEmpty
        $check.loaded | Should -Be 20
        $check.rows | Should -Be 20
    }

    It 'a server that does not answer is StoreConnectFailed naming host and port; a url without a port number is UrlInvalid' {
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
        { Get-BeakerSession -Url "memcached://127.0.0.1:$port" -Timeout 0 -ErrorAction Stop } | Should -Throw -ErrorId 'StoreConnectFailed,BeakerHelpers.Module.Commands.GetBeakerSessionCommand'
        try { Get-BeakerSession -Url "memcached://127.0.0.1:$port" -Timeout 0 -ErrorAction Stop } catch { $_.Exception.Message | Should -Match "memcached 127\.0\.0\.1:$port" }
        $bad = Join-Path $TestDrive 'bad.ini'
        "[app:main]`nbeaker.session.type = ext:memcached`nbeaker.session.url = 127.0.0.1:eleven`n" | Set-Content $bad
        { Get-BeakerSession $bad -Timeout 0 -ErrorAction Stop } | Should -Throw -ErrorId 'UrlInvalid,BeakerHelpers.Module.Commands.GetBeakerSessionCommand'
    }
}
