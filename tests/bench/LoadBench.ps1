# The cleanup next to a busy site (dot-sourced by Invoke-Bench.ps1, which defines Copy-BenchStore and Invoke-RawDelete):
# three real Beaker processes (session_traffic.py write) load and save their live sessions as requests do, while a
# removal runs against the same store. What counts is how long those requests wait, and that none fails or loses its
# session (docs/removal.md#pacing).

$script:WriterCount = 3
$script:LiveSessionsPerWriter = 10
# Seconds between one writer's requests: three writers then make about 150 requests a second, a busy site for SQLite.
$script:WriterPause = 0.02

function Get-Percentile([double[]] $Values, [double] $Share) {
    if ($Values.Count -eq 0) { return [double]::NaN }
    $sorted = [double[]]@($Values | Sort-Object)
    $sorted[[math]::Min($sorted.Count - 1, [int][math]::Ceiling($Share * $sorted.Count) - 1)]
}

# Runs $Action (given the store's URL) on a fresh copy of $Url while the writers run, after a quiet baseline of
# $BaselineSeconds. Returns the requests' waits before and during the action, the writers' errors and lost sessions.
function Measure-UnderWriters([string] $Backend, [string] $Url, [scriptblock] $Action, [double] $BaselineSeconds = 3) {
    $copy = Copy-BenchStore $Backend $Url
    $dir = New-Item -ItemType Directory (Join-Path $work "load-$([guid]::NewGuid().ToString('n'))")
    $seeded = Join-Path $dir 'ids.json'
    $null = Measure-Native 'seeding live sessions' /usr/bin/python3 @($script:Traffic, 'seed', $copy, '0', "$($WriterCount * $LiveSessionsPerWriter)", $seeded)
    $live = @((Get-Content -Raw $seeded | ConvertFrom-Json).live)
    $writers = foreach ($n in 1..$WriterCount) {
        $ids = Join-Path $dir "ids-$n.json"
        @{ live = @($live | Select-Object -Skip (($n - 1) * $LiveSessionsPerWriter) -First $LiveSessionsPerWriter) } | ConvertTo-Json | Set-Content $ids
        $files = @{ Ids = $ids; Ready = Join-Path $dir "ready-$n"; Result = Join-Path $dir "result-$n.json"; Errors = Join-Path $dir "err-$n.txt" }
        $files.Process = Start-Process /usr/bin/python3 -PassThru -RedirectStandardError $files.Errors -ArgumentList `
            $script:Traffic, write, $copy, $files.Ids, $files.Ready, (Join-Path $dir 'stop'), $files.Result, $WriterPause
        [pscustomobject]$files
    }
    try {
        $deadline = (Get-Date).AddSeconds(60)
        while (@($writers | Where-Object { -not (Test-Path $_.Ready) }).Count) {
            if ((Get-Date) -gt $deadline -or @($writers | Where-Object { $_.Process.HasExited }).Count) { throw "The Beaker writers did not start: $(Get-Content -Raw $writers[0].Errors)" }
            Start-Sleep -Milliseconds 50
        }
        Start-Sleep -Seconds $BaselineSeconds
        $began = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() / 1000
        $output = & $Action $copy
        $ended = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() / 1000
        Start-Sleep -Milliseconds 500
    }
    finally {
        New-Item -ItemType File (Join-Path $dir 'stop') -Force | Out-Null
        foreach ($writer in $writers) { if (-not $writer.Process.WaitForExit(60000)) { throw 'A Beaker writer did not stop within 60 s.' } }
    }
    $baseline = [Collections.Generic.List[double]]::new(); $during = [Collections.Generic.List[double]]::new(); $errors = 0; $lost = 0
    foreach ($writer in $writers) {
        $report = Get-Content -Raw $writer.Result | ConvertFrom-Json
        foreach ($request in $report.requests) {
            if ($request[0] -lt $began) { $baseline.Add($request[1]) } elseif ($request[0] -le $ended) { $during.Add($request[1]) }
        }
        $errors += @($report.errors).Count
        $lost += @(((Measure-Native 'checking live sessions' /usr/bin/python3 @($script:Traffic, 'check', $copy, $writer.Ids)).Output | ConvertFrom-Json).missing).Count
    }
    if ($Backend -eq 'SQLite') { Remove-Item ($copy -replace '^sqlite:///', '') }
    [pscustomobject]@{
        Output = $output; Errors = $errors; Lost = $lost; Requests = $during.Count
        P50 = Get-Percentile $during 0.5; P99 = Get-Percentile $during 0.99; Max = Get-Percentile $during 1
        BaseP50 = Get-Percentile $baseline 0.5; BaseP99 = Get-Percentile $baseline 0.99; BaseMax = Get-Percentile $baseline 1
    }
}

# Remove-BeakerSession -Timeout 15d and one raw DELETE with the same cutoff, each on its own copy of $Url under writers.
function Measure-CleanupUnderLoad([string] $Backend, [string] $Url) {
    $ours = Measure-UnderWriters $Backend $Url {
        param($copy)
        $run = Measure-Pwsh "removal under load $Backend" "`$s = Remove-BeakerSession -Url '$copy' -Timeout 15d -PassThru; 'SUMMARY ' + (`$s | Select-Object Removed, Batches, @{n='Longest';e={`$_.LongestBatch.TotalSeconds}}, @{n='Duration';e={`$_.Duration.TotalSeconds}}, @{n='Cutoff';e={`$_.Cutoff.ToString('o')}} | ConvertTo-Json -Compress)"
        ($run.Output | Where-Object { $_ -like 'SUMMARY *' }) -replace '^SUMMARY ', '' | ConvertFrom-Json
    }
    $cutoff = [datetime]::Parse($ours.Output.Cutoff, [Globalization.CultureInfo]::InvariantCulture, 'RoundtripKind')
    $raw = Measure-UnderWriters $Backend $Url { param($copy) Invoke-RawDelete $Backend $copy $cutoff }
    [pscustomobject]@{ Backend = $Backend; Ours = $ours; Raw = $raw }
}

function Format-LoadTable($Results) {
    function ms([double] $Seconds) { if ([double]::IsNaN($Seconds)) { '–' } else { '{0:0} ms' -f ($Seconds * 1000) } }
    '| store | cleanup | took | longest batch | writer requests | p50 | p99 | max | without cleanup p50 / p99 / max | writer errors | live sessions lost |'
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
    foreach ($result in $Results) {
        foreach ($row in @(@{ Name = 'Remove-BeakerSession'; Run = $result.Ours; Took = $result.Ours.Output.Duration; Longest = '{0:0.000} s' -f $result.Ours.Output.Longest },
                @{ Name = 'raw DELETE'; Run = $result.Raw; Took = $result.Raw.Output.Seconds; Longest = '–' })) {
            $m = $row.Run
            '| {0} | {1} | {2:0.00} s | {3} | {4:N0} | {5} | {6} | {7} | {8} / {9} / {10} | {11} | {12} |' -f $result.Backend, $row.Name, $row.Took, $row.Longest,
                $m.Requests, (ms $m.P50), (ms $m.P99), (ms $m.Max), (ms $m.BaseP50), (ms $m.BaseP99), (ms $m.BaseMax), $m.Errors, $m.Lost
        }
    }
}
