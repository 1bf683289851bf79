@{
    RootModule           = 'BeakerHelpers.dll'
    # The one place the version is written: the build stamps it on the assemblies and the package.
    ModuleVersion        = '0.5.2'
    GUID                 = '5b8f7f0e-3c1a-4d7e-9a0b-2f6c1e8d4b71'
    Author               = 'BeakerHelpers contributors'
    CompanyName          = 'BeakerHelpers'
    Copyright            = '(c) BeakerHelpers contributors. MIT License.'
    Description          = 'Lists and cleans the server-side sessions that Python web apps (Pylons, Pyramid, TurboGears, CKAN, RhodeCode, Kallithea) keep with the Beaker library, natively, without Python: ext:database/ext:sqla tables in SQLite, PostgreSQL and MySQL/MariaDB, file and dbm folder trees, and Redis. Settings come from the app''s paste.deploy ini file; encrypted sessions are decrypted; old sessions are removed in short batches that never remove a live session.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    RequiredAssemblies   = @('BeakerHelpers.dll')
    TypesToProcess       = @('BeakerHelpers.types.ps1xml')
    FormatsToProcess     = @('BeakerHelpers.format.ps1xml')
    CmdletsToExport      = @('ConvertFrom-BeakerCookie', 'Get-BeakerSession', 'Measure-BeakerSession', 'Remove-BeakerSession', 'Test-BeakerConfiguration')
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Beaker', 'Session', 'Sessions', 'Cleanup', 'Pylons', 'Pyramid', 'TurboGears', 'CKAN', 'SQLite', 'PostgreSQL', 'MySQL', 'MariaDB', 'Redis',
                'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ProjectUri   = 'https://github.com/BeakerHelpers/BeakerHelpers'
            # The build replaces this with the CHANGELOG.md entry of ModuleVersion.
            ReleaseNotes = 'See CHANGELOG.md.'
        }
    }
}
