# No secret in any stream: bad ini files and URLs that hold a password or a key end in a named error, and the
# secret appears nowhere: not in the output, the error and verbose streams, $Error, Get-Error or the exception.
# The secret is read from a file, so that the test's own command text cannot be what shows it.
BeforeDiscovery {
    $script:Cases = @(
        @{ Name = 'a lone % in an ini URL''s password'; Ini = "[app:main]`nbeaker.session.type = ext:database`nbeaker.session.url = postgresql://app:SECRET%@127.0.0.1:1/app`n" }
        @{ Name = 'a % in encrypt_key'; Ini = "[app:main]`nbeaker.session.type = ext:database`nbeaker.session.url = sqlite:///%(here)s/s.db`nbeaker.session.encrypt_key = Enc%SECRET`nbeaker.session.validate_key = v`n" }
        @{ Name = 'a setting before any section'; Ini = "beaker.session.url = postgresql://app:SECRET@127.0.0.1:1/app`n[app:main]`nbeaker.session.type = ext:database`n" }
        @{ Name = 'a continued line without ='; Ini = "[app:main]`nbeaker.session.url = sqlite:///x.db`nSECRET`n" }
        @{ Name = '-Url with one slash'; Url = 'postgresql:/user:SECRET@127.0.0.1/db' }
        @{ Name = '-Url with no colon after the scheme'; Url = 'postgresql//user:SECRET@127.0.0.1/db' }
        @{ Name = '-Url mysql with one slash'; Url = 'mysql:/user:SECRET@127.0.0.1/db' }
        @{ Name = '-Url with an unescaped @ in the password'; Url = 'postgresql://user:p@SECRET@127.0.0.1:1/db' }
        @{ Name = '-Url with port 0'; Url = 'postgresql://user:SECRET@127.0.0.1:0/db' }
        @{ Name = '-Url with port 99999'; Url = 'postgresql://user:SECRET@127.0.0.1:99999/db' }
        @{ Name = '-Url with a password option'; Url = 'sqlite:////nonexistent/folder/s.db?password=SECRET' }
        @{ Name = '-Url to a server that refuses'; Url = 'postgresql://user:SECRET@127.0.0.1:1/db' }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $secretFile = Join-Path $TestDrive 'secret.txt'
    'Zq7' + [guid]::NewGuid().ToString('n').Substring(0, 12) | Set-Content $secretFile
    $script:Secret = (Get-Content $secretFile).Trim()
}

Describe 'No secret in any stream: <Name>' -ForEach $Cases -Tag 'NoServer' {
    It 'ends in a named error that shows no password or key, for Get- and Remove-BeakerSession' {
        foreach ($command in 'Get-BeakerSession', 'Remove-BeakerSession') {
            $Error.Clear()
            $caught = $null
            $arguments = @{ Verbose = $true; ErrorAction = 'Stop' }
            if ($Ini) {
                $path = Join-Path $TestDrive "case-$([guid]::NewGuid().ToString('n')).ini"
                $Ini.Replace('SECRET', $script:Secret) | Set-Content -NoNewline $path
                $arguments.ConfigPath = $path
            }
            else {
                $arguments.Url = $Url.Replace('SECRET', $script:Secret)
            }
            if ($command -eq 'Remove-BeakerSession') { $arguments.Timeout = [timespan]::FromDays(2); $arguments.Confirm = $false }

            $streams = try { & $command @arguments *>&1 | Out-String -Width 500 } catch { $caught = $_; '' }
            $caught | Should -Not -BeNullOrEmpty -Because "$command should fail"
            $caught.FullyQualifiedErrorId | Should -Match '^[A-Za-z]+,BeakerHelpers\.Module\.Commands\.'
            $everything = @(
                $streams
                $caught | Out-String -Width 500
                $caught.Exception.ToString()
                $caught | Get-Error | Out-String -Width 500
                $Error | Out-String -Width 500
            ) -join "`n"
            $everything | Should -Not -Match $script:Secret
        }
    }
}
