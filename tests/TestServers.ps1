# Starts and stops the database servers the tests (and the benchmark) run against: PostgreSQL and MariaDB
# from Debian's packages, each in a new temporary data directory, listening on a free port of 127.0.0.1 only.
# Dot-sourced by build.ps1. A server that cannot start throws with the reason and the end of its log.

Set-StrictMode -Version Latest

function Get-FreePort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function New-ServerPassword {
    # Letters and digits only: the URLs built from it need no encoding (the tests make their own awkward ones).
    -join (1..24 | ForEach-Object { [char[]]'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789' | Get-Random })
}

function Wait-Until([scriptblock] $Condition, [int] $Seconds, [string] $What, [scriptblock] $Log) {
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -gt $deadline) { throw "$What did not happen within $Seconds s. $(& $Log)" }
        Start-Sleep -Milliseconds 200
    }
}

function Get-LogTail([string] $Path) {
    if (Test-Path $Path) { "Log ($Path):`n" + ((Get-Content $Path -Tail 15) -join "`n") } else { "No log at $Path." }
}

function Start-TestPostgres {
    $bin = Get-ChildItem /usr/lib/postgresql/*/bin/postgres -ErrorAction Ignore | Sort-Object FullName | Select-Object -Last 1
    if (-not $bin) { throw 'PostgreSQL is not installed (/usr/lib/postgresql/*/bin/postgres is missing).' }
    $binDir = Split-Path $bin.FullName
    $dir = (New-Item -ItemType Directory (Join-Path ([IO.Path]::GetTempPath()) "beakerhelpers-pg-$([guid]::NewGuid().ToString('n').Substring(0, 8))")).FullName
    $data = Join-Path $dir 'data'
    $log = Join-Path $dir 'postgres.log'
    $password = New-ServerPassword
    $port = Get-FreePort
    Set-Content (Join-Path $dir 'pw') $password -NoNewline
    # PostgreSQL refuses to run as root: as root, run it as the postgres user the package created.
    $asRoot = (id -u) -eq '0'
    if ($asRoot) { chown -R postgres $dir }
    $run = { $exe, $rest = $args; if ($asRoot) { runuser -u postgres -- $exe @rest } else { & $exe @rest } }

    $output = & $run "$binDir/initdb" -D $data -U postgres --auth=scram-sha-256 --auth-local=trust "--pwfile=$dir/pw" -E UTF8 --locale=C.UTF-8 2>&1
    if ($LASTEXITCODE -ne 0) { throw "initdb failed: $output" }
    [IO.File]::Delete((Join-Path $dir 'pw'))
    $output = & $run "$binDir/pg_ctl" -D $data -l $log -w -t 60 start -o "-p $port -k $dir -c listen_addresses=127.0.0.1" 2>&1
    if ($LASTEXITCODE -ne 0) { throw "PostgreSQL did not start: $output $(Get-LogTail $log)" }
    $serverPid = [int](Get-Content (Join-Path $data 'postmaster.pid') -TotalCount 1)
    $version = (& "$binDir/postgres" --version) -replace '^.*\) ', ''
    [pscustomobject]@{
        Kind = 'PostgreSQL'; Version = $version; Pid = $serverPid; Port = $port; Directory = $dir; Log = $log
        Url = "postgresql://postgres:$password@127.0.0.1:$port/postgres"
    }
}

# -BufferPool: InnoDB's buffer pool ('256M' as the tests run it; empty for the server's own default, 128 MB).
function Start-TestMariaDb([string] $BufferPool = '256M') {
    $server = Get-Command mariadbd -ErrorAction Ignore
    if (-not $server) { $server = Get-Item /usr/sbin/mariadbd -ErrorAction Ignore }
    if (-not $server) { throw 'MariaDB is not installed (mariadbd is missing).' }
    $dir = (New-Item -ItemType Directory (Join-Path ([IO.Path]::GetTempPath()) "beakerhelpers-mariadb-$([guid]::NewGuid().ToString('n').Substring(0, 8))")).FullName
    $data = Join-Path $dir 'data'
    $socket = Join-Path $dir 'mysqld.sock'
    $log = Join-Path $dir 'mariadb.log'
    $password = New-ServerPassword
    $port = Get-FreePort
    $user = if ((id -u) -eq '0') { 'root' } else { (id -un) }

    $output = mariadb-install-db --no-defaults "--user=$user" "--datadir=$data" --auth-root-authentication-method=normal --skip-test-db 2>&1
    if ($LASTEXITCODE -ne 0) { throw "mariadb-install-db failed: $output" }
    $arguments = @('--no-defaults', "--user=$user", "--datadir=$data", "--port=$port", '--bind-address=127.0.0.1', "--socket=$socket",
        "--pid-file=$dir/mariadb.pid", '--skip-name-resolve', '--max-allowed-packet=64M') + @(if ($BufferPool) { "--innodb-buffer-pool-size=$BufferPool" })
    $process = Start-Process $server.Source -PassThru -RedirectStandardError $log -RedirectStandardOutput "$log.out" -ArgumentList $arguments
    Wait-Until { (Test-Path $socket) -or $process.HasExited } 60 'MariaDB creating its socket' { Get-LogTail $log }
    if ($process.HasExited) { throw "MariaDB exited with code $($process.ExitCode). $(Get-LogTail $log)" }
    $sql = "CREATE OR REPLACE USER 'root'@'127.0.0.1' IDENTIFIED BY '$password'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;"
    $output = mariadb --no-defaults -S $socket -u root -e $sql 2>&1
    if ($LASTEXITCODE -ne 0) { throw "MariaDB did not accept its setup: $output $(Get-LogTail $log)" }
    $version = (mariadb --no-defaults -S $socket -u root -N -e 'SELECT VERSION()' 2>&1) -join ''
    [pscustomobject]@{
        Kind = 'MariaDB'; Version = $version; Pid = $process.Id; Port = $port; Directory = $dir; Log = $log
        Url = "mysql://root:$password@127.0.0.1:$port/"
    }
}

# One redis-server in $Directory on a free port, from a config file (so that the password is on no command line;
# no snapshots, nothing written but the log, and $Extra lines), once it listens.
function Start-RedisNode([string] $Directory, [string] $Password, [string[]] $Extra = @()) {
    $server = Get-Command redis-server -ErrorAction Ignore
    if (-not $server) { throw 'Redis is not installed (redis-server is missing).' }
    $port = Get-FreePort
    $log = Join-Path $Directory 'redis.log'
    @("port $port", 'bind 127.0.0.1', "requirepass $Password", "dir $Directory", "logfile $log", 'save ""', 'appendonly no', 'daemonize no') + $Extra |
        Set-Content (Join-Path $Directory 'redis.conf')
    $process = Start-Process $server.Source -ArgumentList (Join-Path $Directory 'redis.conf') -PassThru
    Wait-Until { try { $c = [Net.Sockets.TcpClient]::new('127.0.0.1', $port); $c.Dispose(); $true } catch { $false } } 30 "Redis listening on $port" { Get-LogTail $log }
    [pscustomobject]@{ Port = $port; Pid = $process.Id; Log = $log; Version = ((& $server.Source --version) -split ' ' | Where-Object { $_ -like 'v=*' }) -replace 'v=', '' }
}

function Start-TestRedis {
    $dir = (New-Item -ItemType Directory (Join-Path ([IO.Path]::GetTempPath()) "beakerhelpers-redis-$([guid]::NewGuid().ToString('n').Substring(0, 8))")).FullName
    $password = New-ServerPassword
    $node = Start-RedisNode $dir $password @('databases 64')
    [pscustomobject]@{
        Kind = 'Redis'; Version = $node.Version; Pid = $node.Pid; Port = $node.Port; Directory = $dir; Log = $node.Log
        Url = "redis://:$password@127.0.0.1:$($node.Port)"
    }
}

# Three Redis primaries in cluster mode, joined with redis-cli --cluster create (Beaker 1.13's ext:rediscluster).
function Start-TestRedisCluster {
    $dir = (New-Item -ItemType Directory (Join-Path ([IO.Path]::GetTempPath()) "beakerhelpers-rcluster-$([guid]::NewGuid().ToString('n').Substring(0, 8))")).FullName
    $password = New-ServerPassword
    $nodes = foreach ($n in 1..3) {
        $nodeDir = New-Item -ItemType Directory (Join-Path $dir "node$n")
        Start-RedisNode $nodeDir $password @("masterauth $password", 'cluster-enabled yes', "cluster-config-file $nodeDir/nodes.conf", 'cluster-node-timeout 5000')
    }
    $env:REDISCLI_AUTH = $password
    try {
        $output = & redis-cli --cluster create @($nodes | ForEach-Object { "127.0.0.1:$($_.Port)" }) --cluster-replicas 0 --cluster-yes 2>&1
        if ($LASTEXITCODE -ne 0) { throw "redis-cli --cluster create failed: $output" }
        Wait-Until { (& redis-cli -p $nodes[0].Port cluster info 2>$null) -match 'cluster_state:ok' } 30 'The Redis cluster ready' { '' }
    }
    finally { Remove-Item Env:REDISCLI_AUTH }
    [pscustomobject]@{
        Kind = 'Redis cluster'; Version = "$($nodes[0].Version), 3 primaries"; Pid = @($nodes.Pid); Port = ($nodes.Port -join ','); Directory = $dir; Log = $null
        Url = ($nodes | ForEach-Object { "redis://:$password@127.0.0.1:$($_.Port)" }) -join ','
    }
}

# Two memcached servers on free ports (Beaker's ext:memcached spreads sessions over every server its url lists), each
# once it answers. Returns one object: both pids, and the url as Beaker writes it (host:port;host:port).
function Start-TestMemcached([int] $Megabytes = 64) {
    $server = Get-Command memcached -ErrorAction Ignore
    if (-not $server) { throw 'memcached is not installed (Debian memcached).' }
    $dir = (New-Item -ItemType Directory (Join-Path ([IO.Path]::GetTempPath()) "beakerhelpers-memcached-$([guid]::NewGuid().ToString('n').Substring(0, 8))")).FullName
    $user = if ((id -u) -eq '0') { @('-u', 'root') } else { @() }
    $nodes = foreach ($n in 1..2) {
        $port = Get-FreePort
        $log = Join-Path $dir "memcached$n.log"
        $process = Start-Process $server.Source -PassThru -RedirectStandardError $log -RedirectStandardOutput "$log.out" -ArgumentList (@('-p', "$port", '-l', '127.0.0.1', '-U', '0', '-m', "$Megabytes") + $user)
        Wait-Until {
            $process.HasExited -or $(try { $c = [Net.Sockets.TcpClient]::new('127.0.0.1', $port); $c.Dispose(); $true } catch { $false })
        } 30 "memcached listening on $port" { Get-LogTail $log }
        if ($process.HasExited) { throw "memcached exited with code $($process.ExitCode). $(Get-LogTail $log)" }
        [pscustomobject]@{ Pid = $process.Id; Port = $port }
    }
    $version = (& $server.Source -V) -replace '^memcached ', ''
    [pscustomobject]@{
        Kind = 'memcached'; Version = "$version, 2 servers"; Pid = @($nodes.Pid); Port = ($nodes.Port -join ','); Directory = $dir; Log = $null
        Url = ($nodes | ForEach-Object { "127.0.0.1:$($_.Port)" }) -join ';'
    }
}

# Stops a server by its pid(s) (SIGTERM: they shut down cleanly), waits, and removes its directory.
function Stop-TestServer($Server) {
    if (-not $Server) { return }
    foreach ($serverPid in @($Server.Pid)) {
        $process = Get-Process -Id $serverPid -ErrorAction Ignore
        if ($process) {
            kill -TERM $serverPid
            if (-not $process.WaitForExit(60000)) { kill -KILL $serverPid }
        }
    }
    Remove-Item -Recurse -Force $Server.Directory -ErrorAction Ignore
}
