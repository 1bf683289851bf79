# Test-BeakerConfiguration (issue 30): each settings rule fires on an ini file made to break it, and stays silent on
# one that follows its recommendation; no finding shows a key, a secret or a password. Settings alone: no server, no
# Python.
BeforeDiscovery {
    # A set-up that passes every rule; each case changes or removes settings from it.
    $script:Good = [ordered]@{
        'type' = 'ext:database'
        'url' = 'postgresql://beaker:Pg-Passw0rd-Not-Shown@db/app'
        'timeout' = '86400'
        'data_serializer' = 'json'
        'secret' = 'Zq7rT2vXk9LmN4bW8cYpH3sJ6dFgA1eU5tRwQ0zVxCiOnBlKjMhGfEdSaPoIuYy'
        'httponly' = 'true'
        'secure' = 'True'
    }
    $script:Cases = @(
        @{ Rule = 'NoTimeout'; Severity = 'Warning'; Setting = 'beaker.session.timeout'; Remove = @('timeout') }
        @{ Rule = 'PickleSerializer'; Severity = 'Warning'; Setting = 'beaker.session.data_serializer'; Remove = @('data_serializer') }
        @{ Rule = 'UnsignedSessionId'; Severity = 'Warning'; Setting = 'beaker.session.secret'; Remove = @('secret') }
        @{ Rule = 'CookieNotHttpOnly'; Severity = 'Warning'; Setting = 'beaker.session.httponly'; Set = @{ httponly = 'false' } }
        @{ Rule = 'CookieNotSecure'; Severity = 'Warning'; Setting = 'beaker.session.secure'; Remove = @('secure') }
        @{ Rule = 'SameSiteNoneWithoutSecure'; Severity = 'Error'; Setting = 'beaker.session.samesite'; Set = @{ samesite = 'None'; secure = 'maybe' } }
        @{ Rule = 'WeakKey'; Severity = 'Error'; Setting = 'beaker.session.secret'; Set = @{ secret = 'SHORT-KEY-123' } }
        @{ Rule = 'WeakKey'; Severity = 'Error'; Setting = 'beaker.session.validate_key'; Set = @{ validate_key = 'ab' * 40; encrypt_key = 'Hk3' + ('x9Lq2' * 12) } }
        @{ Rule = 'WeakKey'; Severity = 'Warning'; Setting = 'beaker.session.secret'; Set = @{ secret = 'Zq7rT2vXk9LmN4bW8cYpH3sJ6dFgA1eU5tRwQ0z' } }
        @{ Rule = 'CookieSessionNotEncrypted'; Severity = 'Warning'; Setting = 'beaker.session.encrypt_key'; Set = @{ type = 'cookie'; validate_key = 'Vk8' + ('mQ2z7' * 12) }; Remove = @('url') }
        @{ Rule = 'ValidateKeyMissing'; Severity = 'Error'; Setting = 'beaker.session.validate_key'; Set = @{ encrypt_key = 'Ek5' + ('pW4n8' * 12) } }
        @{ Rule = 'ExpiryIgnored'; Severity = 'Warning'; Setting = 'beaker.session.type'; Set = @{ type = 'ext:memcached'; url = '127.0.0.1:11211' } }
        @{ Rule = 'AccessTimeNotSaved'; Severity = 'Error'; Setting = 'beaker.session.save_accessed_time'; Set = @{ save_accessed_time = 'false' } }
        @{ Rule = 'AccessTimeNotSaved'; Severity = 'Warning'; Setting = 'beaker.session.save_accessed_time'; Set = @{ save_accessed_time = 'off' }; Remove = @('timeout') }
        @{ Rule = 'TimeoutOutlivesCookie'; Severity = 'Information'; Setting = 'beaker.session.cookie_expires'; Set = @{ cookie_expires = '3600' } }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    function New-AuditIni([System.Collections.IDictionary] $Settings, [string] $Name = [guid]::NewGuid().ToString('n')) {
        $path = Join-Path $TestDrive "$Name.ini"
        $lines = @('[app:main]', 'use = egg:app') + @($Settings.Keys | ForEach-Object { "beaker.session.$_ = $($Settings[$_])" })
        Set-Content $path ($lines -join "`n")
        $path
    }

    function Get-Variant([System.Collections.IDictionary] $Base, [hashtable] $Set, [string[]] $Remove) {
        $settings = [ordered]@{}
        foreach ($key in $Base.Keys) { if ($key -notin $Remove) { $settings[$key] = $Base[$key] } }
        if ($Set) { foreach ($key in $Set.Keys) { $settings[$key] = $Set[$key] } }
        $settings
    }
}

Describe 'Test-BeakerConfiguration on settings' -Tag 'NoServer' {
    It 'finds nothing in a set-up that follows every recommendation, and -Quiet says $true' {
        $ini = New-AuditIni $Good
        @(Test-BeakerConfiguration $ini) | Should -BeNullOrEmpty
        Test-BeakerConfiguration $ini -Quiet | Should -BeTrue
    }

    It '<Rule> (<Severity>) on <Setting>, and not once its recommendation is followed' -ForEach $Cases {
        $ini = New-AuditIni (Get-Variant $Good $Set $Remove)
        $findings = @(Test-BeakerConfiguration $ini | Where-Object RuleName -eq $Rule)
        $findings.Count | Should -Be 1
        $finding = $findings[0]
        $finding.PSObject.TypeNames[0] | Should -Be 'BeakerHelpers.ConfigurationFinding'
        "$($finding.Severity)" | Should -Be $Severity
        $finding.Setting | Should -Be $Setting
        $finding.Source | Should -BeLike "*$([IO.Path]::GetFileName($ini))' ``[app:main``]"
        $finding.Message | Should -Not -BeNullOrEmpty
        $finding.Recommendation | Should -Not -BeNullOrEmpty
        $finding.SessionId | Should -BeNullOrEmpty
        Test-BeakerConfiguration $ini -Quiet | Should -Be ($Severity -eq 'Information')
        # The keys, the secret and the URL with its password stay out of every finding.
        $text = (Test-BeakerConfiguration $ini | Format-List * | Out-String -Width 500)
        $variant = Get-Variant $Good $Set $Remove
        foreach ($key in 'secret', 'validate_key', 'encrypt_key', 'url') {
            if ($variant[$key]) { $text | Should -Not -Match ([regex]::Escape($variant[$key])) }
        }
        $text | Should -Not -Match 'Pg-Passw0rd'
    }

    It 'reads booleans as Beaker does: yes, on, 1 and T are true; anything else is false' {
        foreach ($true_ in 'yes', 'ON', '1', 'T') {
            $ini = New-AuditIni (Get-Variant $Good @{ httponly = $true_; secure = $true_ } @())
            @(Test-BeakerConfiguration $ini | Where-Object RuleName -in 'CookieNotHttpOnly', 'CookieNotSecure') | Should -BeNullOrEmpty -Because $true_
        }
        $ini = New-AuditIni (Get-Variant $Good @{ httponly = 'enabled' } @())
        @(Test-BeakerConfiguration $ini | Where-Object RuleName -eq 'CookieNotHttpOnly').Count | Should -Be 1
    }

    It 'audits every ini file given, each finding naming its own; -Quiet is one answer for all of them' {
        $goodIni = New-AuditIni $Good 'good'
        $badIni = New-AuditIni (Get-Variant $Good @{ secret = 'x' } @()) 'bad'
        $findings = @(Get-ChildItem $goodIni, $badIni | Test-BeakerConfiguration)
        $findings.Count | Should -Be 1
        $findings[0].RuleName | Should -Be 'WeakKey'
        $findings[0].Source | Should -BeLike "*bad.ini' ``[app:main``]"
        Test-BeakerConfiguration (Join-Path $TestDrive '*.ini') -Quiet | Should -BeFalse
        Test-BeakerConfiguration $goodIni -Quiet | Should -BeTrue
    }

    It 'follows -Prefix, and a missing ini file is ConfigFileNotFound' {
        $path = Join-Path $TestDrive 'prefixed.ini'
        Set-Content $path "[app:main]`nsession.type = ext:database`nsession.url = sqlite:///x.db`nsession.secret = x`n"
        $findings = @(Test-BeakerConfiguration $path -Prefix session)
        ($findings | Where-Object RuleName -eq 'WeakKey').Setting | Should -Be 'session.secret'
        { Test-BeakerConfiguration (Join-Path $TestDrive 'missing.ini') -ErrorAction Stop } | Should -Throw -ErrorId 'ConfigFileNotFound,BeakerHelpers.Module.Commands.TestBeakerConfigurationCommand'
    }

    It 'shows the findings as a table of severity, rule, setting and message' {
        $ini = New-AuditIni (Get-Variant $Good @{ secret = 'x' } @())
        $table = Test-BeakerConfiguration $ini | Out-String -Width 200
        $table | Should -Match 'Severity\s+RuleName\s+Setting\s+Message'
        $table | Should -Match 'Error\s+WeakKey\s+beaker\.session\.secret\s+secret is 1 characters long'
    }
}

Describe 'Test-BeakerConfiguration -Scan on a store real Beaker wrote, with planted payloads beside its sessions' {
    BeforeAll {
        $script:Store = New-BeakerStore SQLite (Join-Path $TestDrive 'scan')
        $script:Marker = Join-Path $TestDrive 'ran-planted-code'
        $db = Join-Path $script:Store.Directory 'sessions.db'
        $script:Planted = & /usr/bin/python3 (Join-Path $PSScriptRoot 'fixtures/plant_payloads.py') "sqlite:///$db" $script:Marker | ConvertFrom-Json
        if ($LASTEXITCODE -ne 0) { throw 'plant_payloads.py failed' }
        $script:Findings = @(Test-BeakerConfiguration $script:Store.Ini -Scan)
    }

    It 'names the callables of every planted payload, one Error per session, and runs none of them' {
        $planted = @($script:Findings | Where-Object RuleName -eq 'PlantedCode')
        @($planted.SessionId | Sort-Object) | Should -Be @($script:Planted | Sort-Object)
        $planted | ForEach-Object { "$($_.Severity)" | Should -Be 'Error' }
        ($planted | Where-Object SessionId -eq 'planted-system').Message | Should -Match 'calls posix\.system'
        ($planted | Where-Object SessionId -eq 'planted-system-p0').Message | Should -Match 'calls posix\.system'
        ($planted | Where-Object SessionId -eq 'planted-popen').Message | Should -Match 'calls subprocess\.Popen'
        ($planted | Where-Object SessionId -eq 'planted-eval-outer').Message | Should -Match 'calls (__builtin__|builtins)\.eval'
        Test-Path $script:Marker | Should -BeFalse
    }

    It 'counts the sessions older than the app''s timeout, and the unreadable ones' {
        $expired = @($script:Findings | Where-Object RuleName -eq 'ExpiredSessionsPresent')
        $expired.Count | Should -Be 1
        $expired[0].Message | Should -Match '^\d+ of \d+ session\(s\) were last used before '
        [int]($expired[0].Message -replace ' of .*$', '') | Should -BeGreaterThan 0
        $unreadable = @($script:Findings | Where-Object RuleName -eq 'UnreadableSessions')
        $unreadable.Count | Should -Be 1
        $unreadable[0].Message | Should -Match '^\d+ session\(s\) cannot be read'
    }

    It 'leaves the store as it was: the scan only reads' {
        $before = Get-StoreFingerprint $script:Store
        $null = Test-BeakerConfiguration $script:Store.Ini -Scan
        Get-StoreFingerprint $script:Store | Should -Be $before
    }
}

Describe 'Test-BeakerConfiguration -Scan on a file store real Beaker wrote, with planted session files and stray lock files' {
    It 'reports each planted file and the lock files that far outnumber the sessions, and runs nothing' {
        $null = New-FolderStores (Join-Path $TestDrive 'folders')
        $dir = Join-Path $TestDrive 'folders'
        $marker = Join-Path $TestDrive 'ran-planted-file'
        $planted = & /usr/bin/python3 (Join-Path $PSScriptRoot 'fixtures/plant_payloads.py') "file:$(Join-Path $dir 'file_data')" $marker 1500 | ConvertFrom-Json
        if ($LASTEXITCODE -ne 0) { throw 'plant_payloads.py failed' }
        $findings = @(Test-BeakerConfiguration (Join-Path $dir 'file.ini') -Scan)
        @(($findings | Where-Object RuleName -eq 'PlantedCode').SessionId | Sort-Object) | Should -Be @($planted | Sort-Object)
        $locks = @($findings | Where-Object RuleName -eq 'LockFileBuildUp')
        $locks.Count | Should -Be 1
        $locks[0].Message | Should -Match '^\d+ lock files for \d+ session file\(s\)'
        Test-Path $marker | Should -BeFalse
    }
}

Describe 'Test-BeakerConfiguration -Scan on sessions holding application objects and standard-library values' {
    It 'takes none of them for planted code: <_>' -ForEach 'values.ini', 'values-crypto.ini', 'files.ini' {
        $dir = Join-Path $TestDrive 'values'
        if (-not (Test-Path $dir)) { $null = New-ValueStores $dir }
        $findings = @(Test-BeakerConfiguration (Join-Path $dir $_) -Scan)
        $findings.Count | Should -BeGreaterThan 0
        @($findings | Where-Object RuleName -eq 'PlantedCode') | Should -BeNullOrEmpty
    }
}
