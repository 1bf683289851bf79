# Beaker's ext:redis store on a private redis-server: sessions saved by the real Beaker library (python3-beaker with
# python3-redis), listed, measured and cleaned; keys that are not sessions are never touched.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:CommandId = 'BeakerHelpers.Module.Commands.RemoveBeakerSessionCommand'
    $script:Server = Get-ServerAdminUrl Redis
    $script:NextDatabase = 1

    # A fresh database of the test server, its URL and an ini file that points the app's Beaker at it.
    function New-RedisStore {
        $db = $script:NextDatabase++
        $url = "$script:Server/$db"
        $dir = New-Item -ItemType Directory (Join-Path $TestDrive "redis-$db")
        $ini = Join-Path $dir 'app.ini'
        $null = Invoke-Redis $url 'c.flushdb()'
        "[app:main]`nuse = egg:app`nbeaker.session.type = ext:redis`nbeaker.session.url = $url" | Set-Content $ini
        [pscustomobject]@{ Url = $url; Ini = $ini; Dir = $dir }
    }

    function Get-RedisKeys([string] $Url) { @(Invoke-Redis $Url "sorted(k.decode() for k in c.scan_iter('*'))") }

    # Keys that are not sessions: a Beaker cache region's entry, Beaker's lock, the app's own.
    function Add-OtherKeys([string] $Url) {
        $null = Invoke-Redis $Url "[c.set('beaker_cache:app.views|index:front_page', b'x'), c.set('beaker_lock:abc', b'1'), c.set('app:counter', b'7')]"
        @('app:counter', 'beaker_cache:app.views|index:front_page', 'beaker_lock:abc')
    }
}

Describe 'Redis stores (ext:redis)' {
    BeforeEach {
        $script:Store = New-RedisStore
        $idsFile = Join-Path $script:Store.Dir 'ids.json'
        Invoke-BeakerTraffic seed-empty $script:Store.Url $idsFile | Out-Null
        $script:Ids = Get-Content -Raw $idsFile | ConvertFrom-Json -AsHashtable
        $script:Others = Add-OtherKeys $script:Store.Url
        $script:All = @($script:Ids.Values | ForEach-Object { $_ })
    }

    It 'lists every session Beaker saved, oldest first, aged by its _accessed_time, and nothing else' {
        $sessions = @(Get-BeakerSession $script:Store.Ini -Timeout 0)
        @($sessions.BeakerId | Sort-Object) | Should -Be @($script:All | Sort-Object)
        $times = @($sessions.BeakerAccessed)
        $times | Should -Be @($times | Sort-Object)
        foreach ($session in $sessions) { ($session.BeakerAccessed - $session._accessed_time).Duration().TotalSeconds | Should -BeLessThan 1 }
        foreach ($id in $script:Ids.old_full + $script:Ids.young_full) { ($sessions | Where-Object BeakerId -eq $id).user_name | Should -BeLike 'user*@example.com' }
        @(Get-BeakerSession $script:Store.Ini -Timeout 1h).BeakerId | Sort-Object | Should -Be @(($script:Ids.young_empty + $script:Ids.young_full) | Sort-Object)
    }

    It 'removes exactly the sessions older than the timeout, never another key, and Beaker still loads the rest' {
        $summary = Remove-BeakerSession $script:Store.Ini -Timeout 1h -PassThru
        $old = $script:Ids.old_empty + $script:Ids.old_full
        $summary.Removed | Should -Be $old.Count
        $keys = Get-RedisKeys $script:Store.Url
        foreach ($id in $old) { $keys | Should -Not -Contain "beaker_cache:${id}:session" }
        foreach ($id in $script:Ids.young_empty + $script:Ids.young_full) { $keys | Should -Contain "beaker_cache:${id}:session" }
        foreach ($other in $script:Others) { $keys | Should -Contain $other }
        $loaded = Invoke-BeakerTraffic load $script:Store.Url @($script:Ids.young_full) | ConvertFrom-Json -AsHashtable
        foreach ($id in $script:Ids.young_full) { $loaded[$id] | Should -BeLike 'user*@example.com' }
    }

    It 'measures keys, ages and sizes, and -Empty removes only the old empty sessions' {
        $m = Measure-BeakerSession $script:Store.Ini -Timeout 1h
        $m.TotalRows | Should -Be $script:All.Count
        $m.Old | Should -Be ($script:Ids.old_empty.Count + $script:Ids.old_full.Count)
        $m.KeysWithTtl | Should -Be 0 -Because 'Beaker sets no TTL without a timeout'
        $m.PayloadBytes | Should -Be ([long](Invoke-Redis $script:Store.Url "sum(c.strlen(k) for k in c.scan_iter('beaker_cache:*:session'))"))
        (Remove-BeakerSession $script:Store.Ini -Empty -Timeout 1h -PassThru).Removed | Should -Be $script:Ids.old_empty.Count
        @(Get-BeakerSession $script:Store.Ini -Timeout 0).BeakerId | Sort-Object | Should -Be @(($script:Ids.old_full + $script:Ids.young_empty + $script:Ids.young_full) | Sort-Object)
    }

    It 'removes the sessions piped from Get-BeakerSession, and only those' {
        $target = $script:Ids.young_full[0]
        $summary = Get-BeakerSession $script:Store.Ini -Timeout 0 | Where-Object BeakerId -eq $target | Remove-BeakerSession -PassThru
        $summary.Removed | Should -Be 1
        $keys = Get-RedisKeys $script:Store.Url
        $keys | Should -Not -Contain "beaker_cache:${target}:session"
        $keys.Count | Should -Be ($script:All.Count - 1 + $script:Others.Count)
    }
}

Describe 'Redis sessions with a TTL, next to a running app' {
    It 'counts the keys Beaker gave a TTL, and still removes by _accessed_time' {
        $store = New-RedisStore
        $ids = Join-Path $store.Dir 'ids.json'
        Invoke-BeakerTraffic seed-empty "$($store.Url)#timeout=86400" $ids | Out-Null
        $written = Get-Content -Raw $ids | ConvertFrom-Json -AsHashtable
        $ttl = Invoke-Redis $store.Url "c.ttl('beaker_cache:$($written.old_full[0]):session')"
        $ttl | Should -BeGreaterThan 86000 -Because 'Beaker sets timeout + 120 s'
        (Measure-BeakerSession $store.Ini -Timeout 1h).KeysWithTtl | Should -Be 12
        (Remove-BeakerSession $store.Ini -Timeout 1h -PassThru).Removed | Should -Be ($written.old_empty.Count + $written.old_full.Count)
    }

    It 'keeps every session a live Beaker process saves meanwhile, and removes every old one' {
        $redis = New-RedisStore
        $ids = Join-Path $redis.Dir 'traffic.json'
        Invoke-BeakerTraffic seed $redis.Url 10000 20 $ids | Out-Null
        $run = Invoke-DuringBeakerWrites $redis.Url $ids $redis.Dir { Remove-BeakerSession -ConfigPath $redis.Ini -Timeout 1d -BatchSize 50 -PassThru }
        $run.Writes.errors | Should -BeNullOrEmpty
        $run.SavesDuring | Should -BeGreaterThan 0
        $run.Output.Removed | Should -Be 10000
        $check = Invoke-BeakerTraffic check $redis.Url $ids | ConvertFrom-Json
        $check.missing | Should -BeNullOrEmpty
        $check.loaded | Should -Be 20
        $check.rows | Should -Be 20
    }
}

Describe 'Encrypted and foreign values in Redis' {
    BeforeAll {
        $script:Encrypted = New-RedisStore
        $ids = Join-Path $script:Encrypted.Dir 'ids.json'
        Invoke-BeakerTraffic seed-empty "$($script:Encrypted.Url)#encrypt_key=redis-encrypt-key&validate_key=redis-validate-key" $ids | Out-Null
        $script:EncryptedIds = Get-Content -Raw $ids | ConvertFrom-Json -AsHashtable
        # Plain sessions beside them, which any settings can date.
        $plain = Join-Path $script:Encrypted.Dir 'plain.json'
        Invoke-BeakerTraffic seed-empty $script:Encrypted.Url $plain | Out-Null
        $script:PlainIds = Get-Content -Raw $plain | ConvertFrom-Json -AsHashtable
        $script:WithKeys = Join-Path $script:Encrypted.Dir 'keys.ini'
        (Get-Content -Raw $script:Encrypted.Ini) + "beaker.session.encrypt_key = redis-encrypt-key`nbeaker.session.validate_key = redis-validate-key`n" | Set-Content $script:WithKeys
        # A value under a key that looks like a session's but holds no pickle.
        $null = Invoke-Redis $script:Encrypted.Url "c.set('beaker_cache:notbeaker:session', b'plain text, not a pickle')"
    }

    It 'lists encrypted sessions with the ini''s keys, and a foreign value as an error of its own' {
        $sessions = @(Get-BeakerSession $script:WithKeys -Timeout 0 -ErrorVariable problems -ErrorAction SilentlyContinue)
        $sessions.Count | Should -Be 24
        ($sessions | Where-Object BeakerId -eq $script:EncryptedIds.old_full[0]).user_name | Should -BeLike 'user*@example.com'
        @($problems).Count | Should -Be 1
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'SessionCorrupt,*'
        "$($problems[0].TargetObject)" | Should -Be 'notbeaker'
    }

    It 'dates encrypted sessions with keys given only on the command line, or one of them there and one in the ini' {
        $young = @($script:EncryptedIds.young_empty) + @($script:EncryptedIds.young_full) + @($script:PlainIds.young_empty) + @($script:PlainIds.young_full)
        $onlyCommandLine = @(Get-BeakerSession $script:Encrypted.Ini -Timeout 1h -EncryptKey 'redis-encrypt-key' -ValidateKey 'redis-validate-key' -ErrorAction SilentlyContinue)
        @($onlyCommandLine.BeakerId | Sort-Object) | Should -Be @($young | Sort-Object)
        $encryptOnly = Join-Path $script:Encrypted.Dir 'encrypt-only.ini'
        (Get-Content -Raw $script:Encrypted.Ini) + "beaker.session.encrypt_key = redis-encrypt-key`n" | Set-Content $encryptOnly
        $mixed = @(Get-BeakerSession $encryptOnly -Timeout 1h -ValidateKey 'redis-validate-key' -ErrorAction SilentlyContinue)
        @($mixed.BeakerId | Sort-Object) | Should -Be @($young | Sort-Object)
    }

    It 'without the keys, removes nothing it cannot date and says so; with them, removes the old ones' {
        $summary = Remove-BeakerSession $script:Encrypted.Ini -Timeout 1h -PassThru -WarningVariable warned 3>$null
        $summary.Removed | Should -Be ($script:PlainIds.old_empty.Count + $script:PlainIds.old_full.Count)
        "$warned" | Should -Match '13 session\(s\) .* were left alone'
        $keys = Get-RedisKeys $script:Encrypted.Url
        foreach ($id in $script:EncryptedIds.Values | ForEach-Object { $_ }) { $keys | Should -Contain "beaker_cache:${id}:session" }
        (Remove-BeakerSession $script:WithKeys -Timeout 1h -PassThru -WarningAction SilentlyContinue).Removed | Should -Be ($script:EncryptedIds.old_empty.Count + $script:EncryptedIds.old_full.Count)
        Get-RedisKeys $script:Encrypted.Url | Should -Contain 'beaker_cache:notbeaker:session'
    }
}

Describe 'Only encrypted sessions in Redis, and no keys' {
    It 'removes nothing and says why' {
        $store = New-RedisStore
        Invoke-BeakerTraffic seed-empty "$($store.Url)#encrypt_key=k1&validate_key=k2" (Join-Path $store.Dir 'ids.json') | Out-Null
        $before = Get-RedisKeys $store.Url
        $summary = Remove-BeakerSession $store.Ini -Timeout 1h -PassThru -WarningVariable warned 3>$null
        $summary.Removed | Should -Be 0
        "$warned" | Should -Match '12 session\(s\) .* were left alone: their age is inside their payload'
        Get-RedisKeys $store.Url | Should -Be $before
        # The same keys given on the command line date them: the old ones go.
        $ids = Get-Content -Raw (Join-Path $store.Dir 'ids.json') | ConvertFrom-Json
        (Remove-BeakerSession $store.Ini -Timeout 1h -EncryptKey k1 -ValidateKey k2 -PassThru).Removed | Should -Be (@($ids.old_empty).Count + @($ids.old_full).Count)
        (Measure-BeakerSession $store.Ini -Timeout 1h -EncryptKey k1 -ValidateKey k2).Old | Should -Be 0
    }
}

Describe 'Redis connection errors' {
    It 'a wrong password is StoreConnectFailed, and no password is shown' {
        $secret = 'Wr0ngSecret-' + [guid]::NewGuid().ToString('n').Substring(0, 8)
        $url = $script:Server -replace '//:[^@]*@', "//:$secret@"
        $caught = $null
        try { Get-BeakerSession -Url $url -Timeout 0 -ErrorAction Stop } catch { $caught = $_ }
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -BeLike 'StoreConnectFailed,*'
        ($caught | Out-String) + $caught.Exception.ToString() | Should -Not -Match $secret
        $serverPassword = [regex]::Match($script:Server, '//:([^@]+)@').Groups[1].Value
        ($caught | Out-String) + $caught.Exception.ToString() | Should -Not -Match ([regex]::Escape($serverPassword))
    }

    It 'an unreachable server is StoreConnectFailed, and a database the server lacks is StoreOpenFailed' {
        { Get-BeakerSession -Url 'redis://127.0.0.1:1/0' -Timeout 0 -ErrorAction Stop } | Should -Throw -ErrorId 'StoreConnectFailed,BeakerHelpers.Module.Commands.GetBeakerSessionCommand'
        $caught = $null
        try { Measure-BeakerSession -Url "$script:Server/99999" -Timeout 0 -ErrorAction Stop } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be 'StoreOpenFailed,BeakerHelpers.Module.Commands.MeasureBeakerSessionCommand'
        $caught.Exception.Message | Should -Match 'has no database 99999'
        $caught.Exception.Message | Should -Not -Match ([regex]::Escape([regex]::Match($script:Server, '//:([^@]+)@').Groups[1].Value))
    }

    It 'a malformed URL is UrlInvalid without echoing it' {
        { Get-BeakerSession -Url 'redis://:s3cret@127.0.0.1:99999/0' -Timeout 0 -ErrorAction Stop } | Should -Throw -ErrorId 'UrlInvalid,BeakerHelpers.Module.Commands.GetBeakerSessionCommand'
    }
}

Describe 'Redis cluster stores (ext:rediscluster)' {
    It 'lists and cleans the sessions spread over three primaries' {
        $urls = Get-ServerAdminUrl RedisCluster
        # Beaker 1.11 has no ext:rediscluster (1.13 added it, with the same keys and values): real Beaker saves the
        # sessions into a standalone Redis, and their keys and bytes are copied into the cluster as they are.
        $source = New-RedisStore
        $idsFile = Join-Path $source.Dir 'ids.json'
        Invoke-BeakerTraffic seed-empty $source.Url $idsFile | Out-Null
        $ids = Get-Content -Raw $idsFile | ConvertFrom-Json -AsHashtable
        $cluster = Join-Path $source.Dir 'cluster.py'
        @'
import json, sys, redis
from redis.cluster import RedisCluster
first = redis.connection.parse_url(sys.argv[2].split(',')[0])
dst = RedisCluster(host=first['host'], port=first['port'], password=first['password'])
if sys.argv[1] == 'copy':
    dst.flushall(target_nodes=RedisCluster.PRIMARIES)
    src = redis.StrictRedis.from_url(sys.argv[3])
    for key in src.scan_iter('beaker_cache:*'):
        dst.set(key, src.get(key))
    dst.set('app:counter', b'7')
per_node = [dst.dbsize(target_nodes=node) for node in dst.get_primaries()]
keys = sorted(k.decode() for k in dst.keys(target_nodes=RedisCluster.PRIMARIES))
print(json.dumps({'per_node': per_node, 'keys': keys}))
'@ | Set-Content $cluster
        $copied = & /usr/bin/python3 $cluster copy $urls $source.Url | ConvertFrom-Json
        @($copied.per_node | Where-Object { $_ -gt 0 }).Count | Should -BeGreaterThan 1 -Because 'the sessions are spread over the primaries'
        $ini = Join-Path $source.Dir 'cluster.ini'
        "[app:main]`nuse = egg:app`nbeaker.session.type = ext:rediscluster`nbeaker.session.urls = $urls" | Set-Content $ini
        $all = @($ids.Values | ForEach-Object { $_ })
        @(Get-BeakerSession $ini -Timeout 0).BeakerId | Sort-Object | Should -Be @($all | Sort-Object)
        (Measure-BeakerSession $ini -Timeout 1h).Old | Should -Be ($ids.old_empty.Count + $ids.old_full.Count)
        (Remove-BeakerSession $ini -Timeout 1h -PassThru).Removed | Should -Be ($ids.old_empty.Count + $ids.old_full.Count)
        $left = (& /usr/bin/python3 $cluster look $urls | ConvertFrom-Json).keys
        $left | Should -Contain 'app:counter'
        foreach ($id in $ids.young_empty + $ids.young_full) { $left | Should -Contain "beaker_cache:${id}:session" }
        foreach ($id in $ids.old_empty + $ids.old_full) { $left | Should -Not -Contain "beaker_cache:${id}:session" }
    }
}

Describe 'Redis sessions as objects' {
    It 'carry their time to live as BeakerTtl, $null when the key never expires' {
        $store = New-RedisStore
        Invoke-BeakerTraffic seed-empty "$($store.Url)#timeout=3600" (Join-Path $store.Dir 'ttl.json') | Out-Null
        Invoke-BeakerTraffic seed-empty $store.Url (Join-Path $store.Dir 'plain.json') | Out-Null
        $withTtl = @((Get-Content -Raw (Join-Path $store.Dir 'ttl.json') | ConvertFrom-Json -AsHashtable).Values | ForEach-Object { $_ })
        $sessions = @(Get-BeakerSession $store.Ini -Timeout 0)
        $sessions.Count | Should -Be 24
        foreach ($session in $sessions) {
            if ($session.BeakerId -in $withTtl) { $session.BeakerTtl.TotalSeconds | Should -BeGreaterThan 3600 -Because 'Beaker sets timeout + 120 s' }
            else { $session.BeakerTtl | Should -BeNullOrEmpty }
        }
        ($sessions[0] | Get-Member -MemberType Properties).Name | Should -Contain 'BeakerTtl'
        # The default table shows the time to live beside the times; Format-List a session's own keys.
        $lines = @(($sessions | Out-String -Width 200).Split("`n") | Where-Object { $_.Trim() })
        $lines[0] | Should -Match '^BeakerId\s+BeakerAccessed\s+BeakerCreated\s+BeakerTtl\s+Session\s*$'
        $lines.Count | Should -Be (2 + $sessions.Count)
        $full = $sessions | Where-Object { $_.BeakerId -in $withTtl -and $_.user_name } | Select-Object -First 1
        ($lines | Where-Object { $_.StartsWith($full.BeakerId) }) | Should -Match ('0\.01:0\d:\d\d\s+user_name=' + [regex]::Escape($full.user_name))
        @(($full | Format-List | Out-String).Split("`n") | Where-Object { $_.Trim() } | ForEach-Object { ($_ -split ':', 2)[0].Trim() }) |
            Should -Be 'BeakerId', 'BeakerAccessed', 'BeakerCreated', 'BeakerTtl', 'user_name'
    }

    It 'looks sessions up by id with -Id, and says which ids it lacks' {
        $store = New-RedisStore
        $idsFile = Join-Path $store.Dir 'ids.json'
        Invoke-BeakerTraffic seed-empty $store.Url $idsFile | Out-Null
        $ids = Get-Content -Raw $idsFile | ConvertFrom-Json -AsHashtable
        $wanted = @($ids.old_full[0], $ids.young_empty[0])
        $found = @(Get-BeakerSession $store.Ini -Id ($wanted + 'no-such-id') -ErrorVariable missing -ErrorAction SilentlyContinue)
        @($found.BeakerId | Sort-Object) | Should -Be @($wanted | Sort-Object)
        ($found | Where-Object BeakerId -eq $ids.old_full[0]).user_name | Should -BeLike 'user*@example.com'
        @($missing).Count | Should -Be 1
        $missing[0].FullyQualifiedErrorId | Should -BeLike 'SessionNotFound,*'
    }
}
