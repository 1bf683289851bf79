@{
    RootModule           = 'BeakerHelpers.dll'
    ModuleVersion        = '0.3.0'
    GUID                 = '5b8f7f0e-3c1a-4d7e-9a0b-2f6c1e8d4b71'
    Author               = 'BeakerHelpers contributors'
    CompanyName          = 'BeakerHelpers'
    Copyright            = '(c) BeakerHelpers contributors. MIT License.'
    Description          = 'Lists and cleans the server-side sessions that Python web apps keep with the Beaker library, natively, without Python.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    RequiredAssemblies   = @('BeakerHelpers.dll')
    TypesToProcess       = @('BeakerHelpers.types.ps1xml')
    FormatsToProcess     = @('BeakerHelpers.format.ps1xml')
    CmdletsToExport      = @('Get-BeakerSession', 'Remove-BeakerSession')
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Beaker', 'Session', 'Pylons', 'Pyramid', 'SQLite', 'PostgreSQL', 'MySQL', 'MariaDB', 'Cleanup')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
        }
    }
}
