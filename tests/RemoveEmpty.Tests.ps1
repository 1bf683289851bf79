# Remove-BeakerSession -Empty against sessions real Beaker saved with nothing in them (and with a user), old and young,
# in every kind of store; and a session that gets content between the decoding and its removal.
BeforeDiscovery {
    $script:Kinds = 'SQLite', 'PostgreSQL', 'MariaDB', 'file'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:CommandId = 'BeakerHelpers.Module.Commands.RemoveBeakerSessionCommand'

    # A new store of the kind and the ids seed-empty wrote into it; Target is what the cmdlets take.
    function New-EmptySeededStore([string] $Kind) {
        $dir = New-Item -ItemType Directory (Join-Path $TestDrive ([guid]::NewGuid().ToString('n')))
        if ($Kind -eq 'file') {
            $url = "file:$dir"
            $ini = Join-Path $dir 'app.ini'
            "[app:main]`nuse = egg:app`nbeaker.session.type = file`nbeaker.session.data_dir = $dir" | Set-Content $ini
            $target = @{ ConfigPath = $ini }
        }
        else {
            $url = New-EmptyStoreUrl $Kind $dir
            $target = @{ Url = $url }
        }
        $idsFile = Join-Path $dir 'ids.json'
        Invoke-BeakerTraffic seed-empty $url $idsFile | Out-Null
        [pscustomobject]@{ Kind = $Kind; Url = $url; Target = $target; Ids = Get-Content -Raw $idsFile | ConvertFrom-Json -AsHashtable }
    }
}

Describe 'Remove-BeakerSession -Empty on <_>' -ForEach $Kinds {
    BeforeEach {
        $script:Store = New-EmptySeededStore $_
        $target = $script:Store.Target
    }

    It 'removes exactly the empty sessions older than the timeout, and says how many it found' {
        $old = $script:Store.Ids.old_empty
        $summary = Remove-BeakerSession @target -Empty -Timeout 1h -PassThru
        $summary.Empty | Should -Be $old.Count
        $summary.Removed | Should -Be $old.Count
        $remaining = @(Get-BeakerSession @target -Timeout 0).BeakerId
        foreach ($id in $old) { $remaining | Should -Not -Contain $id }
        foreach ($id in $script:Store.Ids.young_empty + $script:Store.Ids.old_full + $script:Store.Ids.young_full) { $remaining | Should -Contain $id }
        $loaded = Invoke-BeakerTraffic load $script:Store.Url @($script:Store.Ids.old_full) | ConvertFrom-Json -AsHashtable
        foreach ($id in $script:Store.Ids.old_full) { $loaded[$id] | Should -BeLike 'user*@example.com' -Because 'Beaker still loads the sessions with content' }
    }

    It '-WhatIf counts them and removes nothing' {
        $before = @(Get-BeakerSession @target -Timeout 0).BeakerId | Sort-Object
        Remove-BeakerSession @target -Empty -Timeout 1h -WhatIf | Should -BeNullOrEmpty
        @(Get-BeakerSession @target -Timeout 0).BeakerId | Sort-Object | Should -Be $before
    }

    It 'keeps a session that gets content between the decoding and its turn' {
        $filled = $script:Store.Ids.old_empty[0]
        $arguments = if ($target.ContainsKey('Url')) { "-Url '$($target.Url)'" } else { "-ConfigPath '$($target.ConfigPath)'" }
        $start = [Diagnostics.ProcessStartInfo]::new('dotnet')
        foreach ($a in $script:Pwsh, '-NoProfile', '-Command', "Import-Module '$script:ModuleDir'; Remove-BeakerSession $arguments -Empty -Timeout 1h -Confirm -PassThru | ForEach-Object { 'SUMMARY ' + `$_.Empty + ' ' + `$_.Removed }") { $start.ArgumentList.Add($a) }
        $start.RedirectStandardInput = $start.RedirectStandardOutput = $true
        $start.UseShellExecute = $false
        $process = [Diagnostics.Process]::Start($start)
        try {
            # The confirmation comes after the decoding, with the count: a login stores a user in one session meanwhile.
            $seen = [Text.StringBuilder]::new(); $buffer = [char[]]::new(4096); $deadline = (Get-Date).AddSeconds(60)
            while ("$seen" -notmatch '\[Y\] Yes') {
                $read = $process.StandardOutput.ReadAsync($buffer, 0, $buffer.Length)
                if (-not $read.Wait(60000) -or $read.Result -eq 0 -or (Get-Date) -gt $deadline) { throw "No confirmation prompt: $seen" }
                $null = $seen.Append($buffer, 0, $read.Result)
            }
            "$seen" | Should -Match "Remove $($script:Store.Ids.old_empty.Count) empty session\(s\)"
            Invoke-BeakerTraffic fill $script:Store.Url $filled | Out-Null
            $process.StandardInput.WriteLine('Y')
            $process.StandardInput.Close()
            $rest = $process.StandardOutput.ReadToEnd()
            if (-not $process.WaitForExit(60000)) { throw 'Remove-BeakerSession did not end.' }
        }
        finally { if (-not $process.HasExited) { $process.Kill() } }
        $rest | Should -Match "SUMMARY $($script:Store.Ids.old_empty.Count) $($script:Store.Ids.old_empty.Count - 1)"
        (Invoke-BeakerTraffic load $script:Store.Url $filled | ConvertFrom-Json -AsHashtable)[$filled] | Should -Be 'filled@example.com'
        $remaining = @(Get-BeakerSession @target -Timeout 0).BeakerId
        foreach ($id in $script:Store.Ids.old_empty | Select-Object -Skip 1) { $remaining | Should -Not -Contain $id }
    }
}

Describe 'Remove-BeakerSession -Empty refuses' {
    BeforeAll { $script:Fixture = New-BeakerStore SQLite (Join-Path $TestDrive 'refuse') }

    It 'without a timeout: EmptyTimeoutRequired' {
        { Remove-BeakerSession -Url $script:Fixture.Urls['sessions.db'] -Empty } | Should -Throw -ErrorId "EmptyTimeoutRequired,$script:CommandId"
    }

    It 'with ids: EmptyWithId' {
        { Remove-BeakerSession -Url $script:Fixture.Urls['sessions.db'] -Empty -Timeout 1h -Id abc } | Should -Throw -ErrorId "EmptyWithId,$script:CommandId"
        { 'abc' | Remove-BeakerSession -Url $script:Fixture.Urls['sessions.db'] -Empty -Timeout 1h } | Should -Throw -ErrorId "EmptyWithId,$script:CommandId"
    }

    It 'when the keys decrypt no session: EmptyUndecodable, and nothing is removed' {
        $ini = Join-Path $script:Fixture.Directory 'crypto.ini'
        $wrong = Join-Path $script:Fixture.Directory 'wrong-keys.ini'
        (Get-Content -Raw $ini) -replace '(encrypt_key\s*=\s*)\S+', '${1}NotTheAppsKey' | Set-Content $wrong
        # Beaker without an AES library saved one session in plain text, which any keys read: leave only ciphertexts.
        $plain = @(Get-ExpectedRows $script:Fixture.Expected 'custom.db' 'crypto_sessions' | Where-Object layout -eq 'C-no-aes' | ForEach-Object { $_.id })
        $plain.Count | Should -Be 1
        /usr/bin/python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('DELETE FROM crypto_sessions WHERE namespace = ?', (sys.argv[2],)); c.commit()" ($script:Fixture.Urls['custom.db'] -replace '^sqlite:///', '') $plain[0]
        $before = Get-StoreFingerprint $script:Fixture 'custom.db' 'crypto_sessions'
        { Remove-BeakerSession $wrong -Empty -Timeout 1s } | Should -Throw -ErrorId "EmptyUndecodable,$script:CommandId"
        Get-StoreFingerprint $script:Fixture 'custom.db' 'crypto_sessions' | Should -Be $before
    }
}
