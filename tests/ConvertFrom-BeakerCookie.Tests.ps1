# ConvertFrom-BeakerCookie (issue 31): cookies set by the real Beaker library (tests/fixtures/make_cookies.py), read
# back through the app's ini file: cookie sessions verified and decoded, server-side ids verified and looked up;
# tampered and foreign cookies refused without decoding; headers, name=value and the pipeline.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Dir = Join-Path $TestDrive 'cookies'
    $script:Cases = & /usr/bin/python3 (Join-Path $PSScriptRoot 'fixtures/make_cookies.py') $script:Dir | ConvertFrom-Json
    if ($LASTEXITCODE -ne 0) { throw 'make_cookies.py failed' }
    $script:CommandId = 'BeakerHelpers.Module.Commands.ConvertFromBeakerCookieCommand'

    # The cookie's value as a browser sends it back, from the Set-Cookie header Beaker wrote.
    function Get-CookiePair([string] $Header) { ($Header.Trim() -split ';')[0] }
    function Get-CookieValue([string] $Header) { (Get-CookiePair $Header) -replace '^[^=]+=', '' }
}

Describe 'ConvertFrom-BeakerCookie' {
    It 'decodes a cookie session Beaker signed and <_>, into the object Get-BeakerSession emits' -ForEach 'plain', 'ctr', 'gcm-json', 'custom-key' {
        $case = $script:Cases.$_
        $session = ConvertFrom-BeakerCookie $case.ini -Value $case.header
        $session.PSObject.TypeNames | Should -Contain 'BeakerHelpers.Session'
        $session.BeakerId | Should -Be $case.id
        $session.user_name | Should -Be $case.user_name
        @($session.roles) | Should -Be @('reader', 'editor')
        $session.BeakerStore | Should -Be "cookie '$(if ($_ -eq 'custom-key') { 'myapp_session' } else { 'beaker.session.id' })'"
        $session.BeakerExpired | Should -BeFalse
        [math]::Abs(($session.BeakerAccessed - (Get-Date)).TotalMinutes) | Should -BeLessThan 10
        $session._accessed_time | Should -BeOfType [datetime]
    }

    It 'takes the bare value, name=value, a Cookie: header among other cookies and a Set-Cookie: header alike' {
        $case = $script:Cases.ctr
        $forms = @(
            (Get-CookieValue $case.header)
            (Get-CookiePair $case.header)
            "Cookie: _ga=GA1.2.3; $(Get-CookiePair $case.header); theme=dark"
            "Set-Cookie:$($case.header)"
        )
        foreach ($form in $forms) {
            (ConvertFrom-BeakerCookie $case.ini -Value $form).BeakerId | Should -Be $case.id -Because $form.Substring(0, 20)
        }
    }

    It 'reads values from the pipeline in turn, one session each' {
        $case = $script:Cases.plain
        $other = $script:Cases.expired
        $sessions = @($case.header, $other.header, $case.header | ConvertFrom-BeakerCookie $case.ini)
        @($sessions.BeakerId) | Should -Be @($case.id, $other.id, $case.id)
    }

    It 'shows a session past the app''s timeout, marked expired' {
        $case = $script:Cases.expired
        $session = ConvertFrom-BeakerCookie $case.ini -Value $case.header
        $session.BeakerId | Should -Be $case.id
        $session.BeakerExpired | Should -BeTrue
        ((Get-Date) - $session.BeakerAccessed).TotalMinutes | Should -BeGreaterThan 100
    }

    It 'refuses a changed value with CookieSignatureInvalid, decodes nothing, and goes on with the next' {
        $case = $script:Cases.plain
        $value = Get-CookieValue $case.header
        # One character of the payload changed: a visitor promoting themself.
        $tampered = $value.Substring(0, 50) + $(if ($value[50] -eq 'A') { 'B' } else { 'A' }) + $value.Substring(51)
        $out = @($tampered, $case.header | ConvertFrom-BeakerCookie $case.ini -ErrorVariable problems -ErrorAction SilentlyContinue)
        $out.Count | Should -Be 1
        $out[0].BeakerId | Should -Be $case.id
        @($problems).Count | Should -Be 1
        $problems[0].FullyQualifiedErrorId | Should -Be "CookieSignatureInvalid,$script:CommandId"
        $problems[0].Exception.Message | Should -Match 'Nothing was decoded'
        "$($problems[0].TargetObject)" | Should -Be 'beaker.session.id'
        ($problems | Out-String) + $problems[0].Exception.ToString() | Should -Not -Match ([regex]::Escape($value.Substring(40, 30)))
    }

    It 'refuses another app''s cookie and a cookie signed with other keys' {
        # The custom-key app signs with the same validate_key but its cookie is named otherwise; the server-side
        # cookie is signed with the secret, not the validate_key.
        { ConvertFrom-BeakerCookie $script:Cases.plain.ini -Value (Get-CookieValue $script:Cases.'server-signed'.header) -ErrorAction Stop } |
            Should -Throw -ErrorId "CookieSignatureInvalid,$script:CommandId"
        { ConvertFrom-BeakerCookie $script:Cases.plain.ini -Value (Get-CookiePair $script:Cases.'custom-key'.header) -ErrorAction Stop } |
            Should -Throw -ErrorId "CookieSignatureInvalid,$script:CommandId"
        { ConvertFrom-BeakerCookie $script:Cases.plain.ini -Value 'Cookie: _ga=1; theme=dark' -ErrorAction Stop } |
            Should -Throw -ErrorId "CookieNotFound,$script:CommandId"
    }

    It 'verifies a server-side session''s signed id with secret and looks the session up in the store' {
        $case = $script:Cases.'server-signed'
        $session = ConvertFrom-BeakerCookie $case.ini -Value $case.header -WarningVariable warned
        $session.BeakerId | Should -Be $case.id
        $session.user_name | Should -Be $case.user_name
        $session.BeakerStore | Should -BeLike "sqlite '*server.db' table beaker_cache"
        $session.BeakerExpired | Should -BeFalse
        $warned | Should -BeNullOrEmpty
        # The same id with another signature is not this app's.
        $forged = ('0' * 40) + $case.id
        { ConvertFrom-BeakerCookie $case.ini -Value $forged -ErrorAction Stop } | Should -Throw -ErrorId "CookieSignatureInvalid,$script:CommandId"
    }

    It 'takes an unsigned id as it is, warning that the site accepts ids from visitors; a session not there is SessionNotFound' {
        $case = $script:Cases.'server-unsigned'
        $session = ConvertFrom-BeakerCookie $case.ini -Value $case.header -WarningVariable warned 3>$null
        $session.BeakerId | Should -Be $case.id
        "$warned" | Should -Match 'no beaker\.session\.secret.*accepts any id'
        $null = Remove-BeakerSession $case.ini -Id $case.id -Confirm:$false
        $out = @(ConvertFrom-BeakerCookie $case.ini -Value $case.header -ErrorVariable problems -ErrorAction SilentlyContinue 3>$null)
        $out | Should -BeNullOrEmpty
        $problems[0].FullyQualifiedErrorId | Should -Be "SessionNotFound,$script:CommandId"
    }

    It 'takes the keys from the command line: -ValidateKey and -EncryptKey as strings, SecureStrings or credentials' {
        $case = $script:Cases.ctr
        $bare = Join-Path $TestDrive 'no-keys.ini'
        Set-Content $bare "[app:main]`nbeaker.session.type = cookie`n"
        $keys = Get-Content $case.ini | Where-Object { $_ -match 'key = ' } | ForEach-Object { ($_ -split ' = ', 2)[1] }
        $validate = (Get-Content $case.ini | Where-Object { $_ -like '*validate_key*' }) -replace '^.* = ', ''
        $encrypt = (Get-Content $case.ini | Where-Object { $_ -like '*encrypt_key*' }) -replace '^.* = ', ''
        $credential = [pscredential]::new('x', (ConvertTo-SecureString $encrypt -AsPlainText -Force))
        $session = ConvertFrom-BeakerCookie $bare -Value $case.header -ValidateKey (ConvertTo-SecureString $validate -AsPlainText -Force) -EncryptKey $credential
        $session.BeakerId | Should -Be $case.id
        { ConvertFrom-BeakerCookie $bare -Value $case.header -ErrorAction Stop } | Should -Throw -ErrorId "KeyMissing,$script:CommandId"
        # No key shows in what a failure says.
        $caught = $null
        try { ConvertFrom-BeakerCookie $bare -Value $case.header -ValidateKey 'wrong-validate-key-but-long-enough' -ErrorAction Stop } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be "CookieSignatureInvalid,$script:CommandId"
        ($caught | Out-String) | Should -Not -Match 'wrong-validate-key'
        foreach ($key in $keys) { ($caught | Out-String) | Should -Not -Match ([regex]::Escape($key)) }
    }
}
