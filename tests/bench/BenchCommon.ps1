# What the benchmark scripts share (dot-sourced by Invoke-Bench.ps1 and Invoke-FileBench.ps1, which set $ModuleDir).

$pwsh = Join-Path $PSHOME 'pwsh.dll'

function Get-Median([double[]] $Values) {
    $sorted = @($Values | Sort-Object)
    if ($sorted.Count % 2) { $sorted[[int][math]::Floor($sorted.Count / 2)] } else { ($sorted[$sorted.Count / 2 - 1] + $sorted[$sorted.Count / 2]) / 2 }
}

# Runs a native command, returns its wall time in seconds and its standard output; fails on a non-zero exit.
function Measure-Native([string] $What, [string] $Exe, [string[]] $Arguments) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $output = & $Exe @Arguments 2>&1
    $seconds = $clock.Elapsed.TotalSeconds
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit $LASTEXITCODE): $output" }
    [pscustomobject]@{ Seconds = $seconds; Output = @($output | ForEach-Object { "$_" }) }
}

# A new pwsh that imports the module, runs $Script, and reports its own peak working set.
function Measure-Pwsh([string] $What, [string] $Script) {
    $full = "Import-Module '$ModuleDir'; $Script; 'PEAK ' + [Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64"
    $run = Measure-Native $What dotnet @($pwsh, '-NoProfile', '-NonInteractive', '-Command', $full)
    $peak = ($run.Output | Where-Object { $_ -like 'PEAK *' } | Select-Object -Last 1) -replace 'PEAK ', ''
    [pscustomobject]@{ Seconds = $run.Seconds; PeakMB = [double]$peak / 1MB; Output = $run.Output }
}

# Bare `pwsh -NoProfile -c exit`, in seconds: what every whole-process figure starts from.
function Measure-Bare {
    (Measure-Native 'bare pwsh' dotnet @($pwsh, '-NoProfile', '-NonInteractive', '-Command', 'exit')).Seconds
}
