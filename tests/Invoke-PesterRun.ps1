#Requires -Version 7.4
<#
.SYNOPSIS
    Runs the Pester tests against the built module and writes their results as NUnit XML, for build.ps1 -Task Test
    (which reads the counts from that file). Run in a pwsh of its own, so that the module under test is loaded fresh.
#>
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $TestsPath,
    [Parameter(Mandatory)] [string] $ResultPath,
    # Only the suites with this tag (NoServer: no server, no Python); the others are named as left out.
    [string] $Tag
)

$ErrorActionPreference = 'Stop'
Import-Module $PesterPath
$config = New-PesterConfiguration
$config.Run.Path = $TestsPath
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = $ResultPath
if ($Tag) {
    $config.Filter.Tag = $Tag
    $left = foreach ($file in Get-ChildItem $TestsPath -Filter *.Tests.ps1 | Sort-Object Name) {
        $blocks = @(Select-String -Path $file.FullName -Pattern '^Describe ')
        $tagged = @($blocks | Where-Object { $_.Line -like "*-Tag '$Tag'*" })
        if ($tagged.Count -eq 0) { $file.Name } elseif ($tagged.Count -lt $blocks.Count) { "$($file.Name) (in part)" }
    }
    Write-Host "Left out (they need servers, or Python and Beaker): $($left -join ', ')"
}
Invoke-Pester -Configuration $config
