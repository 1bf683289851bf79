# A cleanup run in another time zone than the app server's: the store's own rows tell the server's offset (the
# accessed column against each session's _accessed_time), and Remove-BeakerSession refuses a cutoff in a zone that
# disagrees. The stores are written by real Beaker under TZ=UTC; the module runs in a child pwsh under another TZ.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Source = Join-Path $TestDrive 'utc-app'
    $saved = $env:TZ
    try {
        $env:TZ = 'UTC'
        $script:Expected = New-BeakerFixture $script:Source
    }
    finally {
        if ($null -eq $saved) { Remove-Item Env:TZ -ErrorAction Ignore } else { $env:TZ = $saved }
    }

    # Runs $Script in a fresh pwsh whose local zone is $Zone; returns its output lines.
    function Invoke-InZone([string] $Zone, [string] $Script) {
        $saved = $env:TZ
        try {
            $env:TZ = $Zone
            (Invoke-ModuleScript $Script).Lines
        }
        finally {
            if ($null -eq $saved) { Remove-Item Env:TZ -ErrorAction Ignore } else { $env:TZ = $saved }
        }
    }

    # Moves every row's accessed column as a server clock in another zone (or a wrong one) would have written it.
    function Set-AccessedShift([string] $Db, [string] $Shift) {
        & /usr/bin/python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('UPDATE beaker_cache SET accessed = datetime(accessed, ?)', (sys.argv[2],)); c.commit()" $Db $Shift
        if ($LASTEXITCODE -ne 0) { throw "The rows of $Db could not be shifted." }
    }

    function New-Copy {
        $copy = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        New-Item -ItemType Directory $copy | Out-Null
        Get-ChildItem $script:Source -File | Copy-Item -Destination $copy
        $copy
    }
}

Describe 'Remove-BeakerSession from a machine in another time zone than the app server' {
    It 'refuses, naming both offsets, and removes nothing' {
        $copy = New-Copy
        $db = Join-Path $copy 'sessions.db'
        $before = (Get-FileHash $db).Hash
        $out = Invoke-InZone 'Asia/Tokyo' "try { Remove-BeakerSession '$copy/prod.ini' -Timeout 8h -ErrorAction Stop; 'REMOVED' } catch { 'ERROR ' + `$_.FullyQualifiedErrorId + ' | ' + `$_.Exception.Message }"
        $line = $out | Where-Object { $_ -like 'ERROR *' }
        $line | Should -Match '^ERROR AppTimeZoneMismatch,'
        $line | Should -Match ([regex]::Escape('UTC+00:00'))
        $line | Should -Match ([regex]::Escape('Asia/Tokyo (UTC+09:00)'))
        $line | Should -Match 'Nothing was removed'
        $line | Should -Match ([regex]::Escape('-TimeZone UTC'))
        (Get-FileHash $db).Hash | Should -Be $before
    }

    It 'says the same under -WhatIf' {
        $copy = New-Copy
        $out = Invoke-InZone 'Asia/Tokyo' "try { Remove-BeakerSession '$copy/prod.ini' -Timeout 8h -WhatIf -ErrorAction Stop } catch { 'ERROR ' + `$_.FullyQualifiedErrorId }"
        $out | Should -Contain 'ERROR AppTimeZoneMismatch,BeakerHelpers.Module.Commands.RemoveBeakerSessionCommand'
    }

    It 'removes exactly the old rows with -TimeZone naming the app server''s zone' {
        $copy = New-Copy
        $out = Invoke-InZone 'Asia/Tokyo' "Remove-BeakerSession '$copy/prod.ini' -Timeout 8h -TimeZone UTC -Verbose 4>&1 | ForEach-Object { `"`$_`" }"
        ($out -join "`n") | Should -Match ([regex]::Escape("The app server's clock: UTC+00:00"))
        $young = @($script:Expected.rows | Where-Object { $_.db -eq 'sessions.db' -and $_.table -eq 'beaker_cache' -and $_.age_seconds -lt 8 * 3600 }).id
        @(Get-StoredId ('sqlite:///' + (Join-Path $copy 'sessions.db'))) | Should -Be @($young | Sort-Object)
    }

    It 'goes on in the app server''s own zone' {
        $copy = New-Copy
        $out = Invoke-InZone 'UTC' "try { Remove-BeakerSession '$copy/prod.ini' -Timeout 8h -ErrorAction Stop; 'DONE' } catch { 'ERROR ' + `$_.FullyQualifiedErrorId }"
        $out | Should -Contain 'DONE'
    }

    It 'states a difference no zone explains as that difference, and suggests no zone' {
        $copy = New-Copy
        Set-AccessedShift (Join-Path $copy 'sessions.db') '-72 hours'
        $out = Invoke-InZone 'UTC' "try { Remove-BeakerSession '$copy/prod.ini' -Timeout 8h -ErrorAction Stop; 'REMOVED' } catch { 'ERROR ' + `$_.FullyQualifiedErrorId + ' | ' + `$_.Exception.Message }"
        $line = $out | Where-Object { $_ -like 'ERROR *' }
        $line | Should -Match '^ERROR AppTimeZoneMismatch,'
        $line | Should -Match ([regex]::Escape('72:00 (hours:minutes) behind'))
        $line | Should -Match 'no time zone explains'
        $line | Should -Not -Match '-TimeZone'
    }

    It 'suggests a zone that passes its own check' {
        $copy = New-Copy
        Set-AccessedShift (Join-Path $copy 'sessions.db') '+9 hours'
        $out = Invoke-InZone 'UTC' "try { Remove-BeakerSession '$copy/prod.ini' -Timeout 8h -ErrorAction Stop; 'REMOVED' } catch { 'ERROR ' + `$_.Exception.Message }"
        $line = $out | Where-Object { $_ -like 'ERROR *' }
        $line | Should -Match ([regex]::Escape('-TimeZone Etc/GMT-9 for the fixed offset UTC+09:00'))
        $out = Invoke-InZone 'UTC' "try { Remove-BeakerSession '$copy/prod.ini' -Timeout 8h -TimeZone Etc/GMT-9 -ErrorAction Stop; 'DONE' } catch { 'ERROR ' + `$_.Exception.Message }"
        $out | Should -Contain 'DONE'
    }

    It 'warns when Get-BeakerSession filters in the wrong zone' {
        $out = Invoke-InZone 'Asia/Tokyo' "Get-BeakerSession '$script:Source/prod.ini' -Timeout 8h -ErrorAction SilentlyContinue 3>&1 | Where-Object { `$_ -is [System.Management.Automation.WarningRecord] } | ForEach-Object { 'WARNING ' + `$_.Message }"
        ($out | Where-Object { $_ -like 'WARNING *' }) | Should -Match ([regex]::Escape('UTC+00:00'))
    }
}
