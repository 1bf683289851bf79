BeforeDiscovery {
    $script:Backends = 'SQLite', 'PostgreSQL', 'MariaDB'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:CommandId = 'BeakerHelpers.Module.Commands.GetBeakerSessionCommand'
}

Describe 'Encrypted sessions written by real Beaker, on <_>' -ForEach $Backends {
    BeforeAll {
        $script:Store = New-BeakerStore $_ (Join-Path $TestDrive "crypto-$_")
        $script:Crypto = Join-Path $script:Store.Directory 'crypto.ini'
        $script:Rows = @(Get-ExpectedRows $script:Store.Expected 'custom.db' 'crypto_sessions')
        $script:EncryptKey = ([regex]::Match((Get-Content -Raw $script:Crypto), 'encrypt_key = (\S+)')).Groups[1].Value
        $script:ValidateKey = ([regex]::Match((Get-Content -Raw $script:Crypto), 'validate_key = (\S+)')).Groups[1].Value
    }

    It 'decrypts every cipher Beaker used (CTR, GCM, CBC, ECB, none; 128/48-bit nonces; pickle and JSON) with the ini''s keys' {
        $script:Rows.Count | Should -Be 8
        $sessions = Get-BeakerSession $script:Crypto -Timeout 0
        @($sessions).Count | Should -Be 8
        foreach ($row in $script:Rows) {
            $session = $sessions | Where-Object BeakerId -eq $row.id
            $session.user_name | Should -Be $row.values.user_name[1] -Because $row.layout
            $session.n | Should -Be $row.values.n[1]
            $session.roles | Should -Be @('a', 'b')
            $accessed = [DateTimeOffset]::FromUnixTimeMilliseconds([long]([double]$row.values._accessed_time[1] * 1000)).LocalDateTime
            [math]::Abs(($session._accessed_time - $accessed).TotalSeconds) | Should -BeLessThan 1
        }
    }

    It 'takes the keys as -EncryptKey and -ValidateKey: <_>' -ForEach 'SecureString', 'PSCredential', 'String' {
        $kind = $_
        $secret = { param($text) switch ($kind) {
                'SecureString' { ConvertTo-SecureString $text -AsPlainText -Force }
                'PSCredential' { [pscredential]::new('key', (ConvertTo-SecureString $text -AsPlainText -Force)) }
                'String' { $text } } }
        $sessions = Get-BeakerSession -Url $script:Store.Urls['custom.db'] -TableName crypto_sessions -Timeout 0 `
            -EncryptKey (& $secret $script:EncryptKey) -ValidateKey (& $secret $script:ValidateKey)
        @($sessions.user_name | Sort-Object) | Should -Be @($script:Rows | ForEach-Object { $_.values.user_name[1] } | Sort-Object)
    }

    It 'a wrong key is an error per session, listing goes on, and no key is ever shown' {
        $output = Get-BeakerSession $script:Crypto -Timeout 0 -EncryptKey 'not-the-key' -Verbose -ErrorVariable bad -ErrorAction SilentlyContinue 4>&1
        $sessions = @($output | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        # The no-AES row needs no key: it is the only one read.
        $sessions.user_name | Should -Be 'no-aes@example.com'
        $bad.Count | Should -Be 7
        $bad | ForEach-Object { $_.FullyQualifiedErrorId | Should -Be "SessionDecryptFailed,$script:CommandId" }
        $text = (($output | ForEach-Object { if ($_ -is [System.Management.Automation.VerboseRecord]) { $_.Message } else { $_ | Out-String } }) + ($bad | ForEach-Object { $_.Exception.Message })) -join "`n"
        $text | Should -Not -BeLike "*$($script:EncryptKey)*"
        $text | Should -Not -BeLike "*$($script:ValidateKey)*"
        $text | Should -Not -BeLike '*not-the-key*'
    }

    It 'without keys, an encrypted session is an error that names the settings' {
        Get-BeakerSession -Url $script:Store.Urls['custom.db'] -TableName crypto_sessions -Timeout 0 -ErrorVariable bad -ErrorAction SilentlyContinue | Out-Null
        # All eight, the no-AES one too: without the configuration nothing says that its nonce hides no cipher.
        $bad.Count | Should -Be 8
        $bad[0].FullyQualifiedErrorId | Should -Be "SessionEncrypted,$script:CommandId"
        $bad[0].Exception.Message | Should -BeLike '*beaker.session.encrypt_key*-EncryptKey*'
    }

    It 'one key without the other is refused, naming the missing one' {
        { Get-BeakerSession -Url $script:Store.Urls['custom.db'] -TableName crypto_sessions -EncryptKey 'x' } | Should -Throw -ErrorId "KeyMissing,$script:CommandId" -ExpectedMessage '*validate_key*'
    }
}
