#Requires -Version 7.4
<#
.SYNOPSIS
    Writes the module's MAML help (BeakerHelpers.dll-Help.xml) from the help texts in Help/<culture>/<cmdlet>.psd1
    and the cmdlets' own parameter metadata, so that syntax, types and pipeline input never drift from the code.
.DESCRIPTION
    Run by build.ps1 in a fresh pwsh on the built module. Fails when a parameter has no description, or a
    description names a parameter the cmdlet does not have.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleDir,
    [Parameter(Mandatory)] [string] $SourceDir,
    [Parameter(Mandatory)] [string] $Destination
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$maml = 'http://schemas.microsoft.com/maml/2004/10'
$command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$dev = 'http://schemas.microsoft.com/maml/dev/2004/10'
$common = [System.Management.Automation.Cmdlet]::CommonParameters + 'UseTransaction'
$standard = @{
    WhatIf  = 'Shows what would be removed (how many sessions, from which store, with which cutoff) without removing anything.'
    Confirm = 'Asks before removing, once per store, with the number of sessions.'
}

Import-Module $ModuleDir -Force
$projectUri = (Get-Module BeakerHelpers).PrivateData.PSData.ProjectUri

$settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
$xml = [System.Xml.XmlWriter]::Create($Destination, $settings)

function Write-Para([string[]] $Text) {
    $xml.WriteStartElement('maml', 'description', $maml)
    foreach ($para in $Text) { $xml.WriteElementString('maml', 'para', $maml, $para) }
    $xml.WriteEndElement()
}

# Nullable<TimeSpan> shows as TimeSpan, as PowerShell users write it.
function Get-TypeName([type] $Type, [switch] $Full) {
    $inner = [Nullable]::GetUnderlyingType($Type)
    if ($inner) { $Type = $inner }
    if ($Full) { $Type.FullName } else { $Type.Name }
}

# Positional parameters first, then mandatory ones, then the rest in declaration order.
function Get-DisplayOrder($Parameters) {
    $Parameters | Sort-Object -Stable { if ($_.Position -ge 0) { $_.Position } else { 1000 } }, { -not $_.IsMandatory }
}

# The value a parameter has when not given, read from a new instance of the cmdlet (so it never drifts from the
# code), unless the help text names it (a default that comes from the ini file, say).
function Get-DefaultValue($Parameter, $Instance, $Help) {
    if ($Help.ContainsKey('Defaults') -and $Help.Defaults.ContainsKey($Parameter.Name)) { return $Help.Defaults[$Parameter.Name] }
    $property = $Instance.PSObject.Properties[$Parameter.Name]
    if (-not $property) { return $null }
    $value = $property.Value
    if ($null -eq $value -or $value -is [switch] -or ($value -is [string] -and $value -eq '')) { return $null }
    "$value"
}

function Write-Parameter($Parameter, $Set, [string] $Description, [string] $Default) {
    $pipeline = @(
        if ($Set.ValueFromPipeline) { 'ByValue' }
        if ($Set.ValueFromPipelineByPropertyName) { 'ByPropertyName' }
    )
    $xml.WriteStartElement('command', 'parameter', $command)
    $xml.WriteAttributeString('required', "$($Set.IsMandatory)".ToLowerInvariant())
    $globbing = [bool]($Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
    $xml.WriteAttributeString('globbing', "$globbing".ToLowerInvariant())
    $xml.WriteAttributeString('pipelineInput', $(if ($pipeline) { "true ($($pipeline -join ', '))" } else { 'false' }))
    $xml.WriteAttributeString('position', $(if ($Set.Position -ge 0) { "$($Set.Position)" } else { 'named' }))
    $xml.WriteAttributeString('aliases', $(if ($Parameter.Aliases.Count) { $Parameter.Aliases -join ', ' } else { 'none' }))
    $xml.WriteElementString('maml', 'name', $maml, $Parameter.Name)
    Write-Para $Description
    $isSwitch = $Parameter.ParameterType -eq [switch]
    if (-not $isSwitch) {
        $xml.WriteStartElement('command', 'parameterValue', $command)
        $xml.WriteAttributeString('required', 'true')
        $xml.WriteString((Get-TypeName $Parameter.ParameterType))
        $xml.WriteEndElement()
    }
    $xml.WriteStartElement('dev', 'type', $dev)
    $xml.WriteElementString('maml', 'name', $maml, (Get-TypeName $Parameter.ParameterType -Full))
    $xml.WriteEndElement()
    if ($Default) { $xml.WriteElementString('dev', 'defaultValue', $dev, $Default) }
    $xml.WriteEndElement()
}

function Write-TypeList([string] $List, [string] $Item, $Entries) {
    $xml.WriteStartElement('command', $List, $command)
    foreach ($entry in $Entries) {
        $xml.WriteStartElement('command', $Item, $command)
        $xml.WriteStartElement('dev', 'type', $dev)
        $xml.WriteElementString('maml', 'name', $maml, $entry.Type)
        $xml.WriteEndElement()
        Write-Para $entry.Description
        $xml.WriteEndElement()
    }
    $xml.WriteEndElement()
}

$xml.WriteStartElement('helpItems', 'http://msh')
$xml.WriteAttributeString('schema', 'maml')
foreach ($file in Get-ChildItem $SourceDir -Filter '*.psd1' | Sort-Object Name) {
    $help = Import-PowerShellDataFile $file.FullName
    $cmdlet = Get-Command -Module BeakerHelpers -Name $file.BaseName
    $instance = [Activator]::CreateInstance($cmdlet.ImplementingType)
    foreach ($name in $standard.Keys) {
        if ($cmdlet.Parameters.ContainsKey($name) -and -not $help.Parameters.ContainsKey($name)) { $help.Parameters[$name] = $standard[$name] }
    }
    $own = @($cmdlet.Parameters.Values | Where-Object Name -NotIn $common)
    $undocumented = @($own.Name | Where-Object { -not $help.Parameters.ContainsKey($_) })
    $unknown = @($help.Parameters.Keys | Where-Object { $_ -notin $own.Name })
    if ($undocumented -or $unknown) {
        throw "$($file.Name): parameters without a description: $($undocumented -join ', '); descriptions of no parameter: $($unknown -join ', ')."
    }

    $xml.WriteStartElement('command', 'command', $command)
    $xml.WriteAttributeString('xmlns', 'maml', $null, $maml)
    $xml.WriteAttributeString('xmlns', 'dev', $null, $dev)
    $xml.WriteStartElement('command', 'details', $command)
    $xml.WriteElementString('command', 'name', $command, $cmdlet.Name)
    $xml.WriteElementString('command', 'verb', $command, $cmdlet.Verb)
    $xml.WriteElementString('command', 'noun', $command, $cmdlet.Noun)
    Write-Para $help.Synopsis
    $xml.WriteEndElement()
    Write-Para $help.Description

    $xml.WriteStartElement('command', 'syntax', $command)
    foreach ($set in $cmdlet.ParameterSets) {
        $xml.WriteStartElement('command', 'syntaxItem', $command)
        $xml.WriteElementString('maml', 'name', $maml, $cmdlet.Name)
        foreach ($parameter in Get-DisplayOrder ($set.Parameters | Where-Object Name -NotIn $common)) {
            Write-Parameter $parameter $parameter $help.Parameters[$parameter.Name] (Get-DefaultValue $parameter $instance $help)
        }
        $xml.WriteEndElement()
    }
    $xml.WriteEndElement()

    $xml.WriteStartElement('command', 'parameters', $command)
    $order = @(foreach ($set in $cmdlet.ParameterSets) { (Get-DisplayOrder $set.Parameters).Name }) | Select-Object -Unique
    foreach ($parameter in $own | Sort-Object { $order.IndexOf($_.Name) }) {
        # The parameter section shows the first set's attributes; the syntax shows each set's own.
        $first = $parameter.ParameterSets.Values | Select-Object -First 1
        Write-Parameter $parameter $first $help.Parameters[$parameter.Name] (Get-DefaultValue $parameter $instance $help)
    }
    $xml.WriteEndElement()

    if ($help.ContainsKey('Inputs')) { Write-TypeList 'inputTypes' 'inputType' $help.Inputs }
    Write-TypeList 'returnValues' 'returnValue' $help.Outputs

    $xml.WriteStartElement('command', 'examples', $command)
    $number = 0
    foreach ($example in $help.Examples) {
        $number++
        $xml.WriteStartElement('command', 'example', $command)
        $xml.WriteElementString('maml', 'title', $maml, "-------------------------- Example $number --------------------------")
        $xml.WriteElementString('dev', 'code', $dev, $example.Code)
        $xml.WriteStartElement('dev', 'remarks', $dev)
        $xml.WriteElementString('maml', 'para', $maml, $example.Remarks)
        $xml.WriteEndElement()
        $xml.WriteEndElement()
    }
    $xml.WriteEndElement()

    # Related links: the module's about topic, the other cmdlets, and the project.
    $xml.WriteStartElement('command', 'relatedLinks', $command)
    $links = @('about_BeakerHelpers') + @((Get-Command -Module BeakerHelpers).Name | Where-Object { $_ -ne $cmdlet.Name } | Sort-Object) + $projectUri
    foreach ($link in $links) {
        $xml.WriteStartElement('maml', 'navigationLink', $maml)
        # Get-Help writes a link's text and then its address: the project's address is said once, after its name.
        $xml.WriteElementString('maml', 'linkText', $maml, $(if ($link -like 'http*') { 'Project site:' } else { $link }))
        $xml.WriteElementString('maml', 'uri', $maml, $(if ($link -like 'http*') { $link } else { '' }))
        $xml.WriteEndElement()
    }
    $xml.WriteEndElement()
    $xml.WriteEndElement()
}
$xml.WriteEndElement()
$xml.Dispose()
