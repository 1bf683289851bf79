# The server ends the removal's connection while it runs (PostgreSQL pg_terminate_backend, MariaDB KILL), as a restart
# or a network failure would: the error says how many sessions went before it, and running the command again finishes.
BeforeDiscovery {
    $script:Cases = foreach ($backend in 'PostgreSQL', 'MariaDB') { foreach ($size in 5, 10) { @{ Backend = $backend; BatchSize = $size } } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Remove-BeakerSession on <Backend> losing its connection (batches of <BatchSize>)' -ForEach $Cases {
    It 'ends in RemovalFailed with the count removed before it, and a re-run removes the rest' {
        $dir = New-Item -ItemType Directory (Join-Path $TestDrive ([guid]::NewGuid().ToString('n')))
        $url = New-EmptyStoreUrl $Backend $dir
        $database = ($url -split '/')[-1] -replace '\?.*$', ''
        $null = Invoke-BeakerTraffic seed $url 20000 0 (Join-Path $dir 'ids.json')
        $before = @(Get-StoredId $url).Count
        $before | Should -Be 20000

        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$script:ModuleDir'; Remove-BeakerSession -Url '$url' -Timeout 1d -BatchSize $BatchSize -ErrorAction Stop")
            $async = $ps.BeginInvoke()
            $deadline = (Get-Date).AddSeconds(60)
            while ($ps.Streams.Progress.Count -eq 0 -and -not $async.IsCompleted -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 10 }
            $async.IsCompleted | Should -BeFalse -Because 'the removal is under way when its connection ends'
            [int](Invoke-BeakerTraffic disconnect (Get-ServerAdminUrl $Backend) $database) | Should -BeGreaterThan 0
            $caught = $null
            try { $null = $ps.EndInvoke($async) }
            catch {
                for ($e = $_.Exception; $e -and -not $caught; $e = $e.InnerException) {
                    if ($e.PSObject.Properties['ErrorRecord'] -and "$($e.ErrorRecord.FullyQualifiedErrorId)" -like 'RemovalFailed,*') { $caught = $e.ErrorRecord }
                }
                if (-not $caught) { throw }
            }
            # A script stopped by a terminating error may leave it in the error stream instead.
            $caught = $caught ?? ($ps.Streams.Error | Where-Object { "$($_.FullyQualifiedErrorId)" -like 'RemovalFailed,*' } | Select-Object -First 1)
            $others = @($ps.Streams.Error | Where-Object { "$($_.FullyQualifiedErrorId)" -notlike 'RemovalFailed,*' } | ForEach-Object { "$($_.FullyQualifiedErrorId): $_" })
            $others | Should -BeNullOrEmpty
        }
        finally {
            $ps.Dispose()
        }

        $removed = $before - @(Get-StoredId $url).Count
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -Be 'RemovalFailed,BeakerHelpers.Module.Commands.RemoveBeakerSessionCommand'
        # The server may have committed the batch whose commit the lost connection cut off: the message says so.
        $caught.Exception.Message -match '(?:Nothing was removed from|stopped after (\d+) session\(s\) were removed in \d+ batch\(es\)(?: \(and perhaps the (\d+) of the batch whose commit was under way[^)]*\))?:)' | Should -BeTrue -Because $caught.Exception.Message
        $reported, $inDoubt = [int]$Matches[1], [int]$Matches[2]
        $removed | Should -BeIn @($reported, ($reported + $inDoubt))
        $caught.Exception.Message | Should -Match 'running the command again is safe'
        $caught.Exception.Message | Should -Not -Match 's3cr|pw@x|s3cr%3At'
        $removed | Should -BeLessThan $before

        $summary = Remove-BeakerSession -Url $url -Timeout 1d -PassThru
        $summary.Removed | Should -Be ($before - $removed)
        @(Get-StoredId $url).Count | Should -Be 0
    }
}
