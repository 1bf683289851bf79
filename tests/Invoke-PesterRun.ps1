#Requires -Version 7.4
<#
.SYNOPSIS
    Runs the Pester tests against the built module and writes their results as NUnit XML, for build.ps1 -Task Test
    (which reads the counts from that file). Run in a pwsh of its own, so that the module under test is loaded fresh.
#>
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $TestsPath,
    [Parameter(Mandatory)] [string] $ResultPath
)

$ErrorActionPreference = 'Stop'
Import-Module $PesterPath
$config = New-PesterConfiguration
$config.Run.Path = $TestsPath
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = $ResultPath
Invoke-Pester -Configuration $config
