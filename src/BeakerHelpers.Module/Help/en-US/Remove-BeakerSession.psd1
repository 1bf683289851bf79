@{
    Synopsis    = 'Deletes old Beaker sessions (or the ones given) from the store, in short batches, without prompting.'
    Description = @(
        'Remove-BeakerSession is the cleanup Beaker lacks: Beaker never deletes a session row, so session tables grow forever. It reads the store from the app''s paste.deploy ini file (or -Url) exactly as Get-BeakerSession does, and deletes the rows whose accessed column is older than now minus the timeout (-Timeout, else <prefix>.timeout). Beaker writes accessed at the end of every request that used the session, after the _accessed_time it checks, so a row older than the timeout is a session Beaker itself would refuse.'
        'Without any timeout, or with -Timeout 0, it refuses to run: removing every session logs everyone out and is not a cleanup. Payloads are never decoded: corrupt and unreadable rows, and stale rows of a Beaker cache sharing the table, are removed like any other old row.'
        'Rows are deleted in the database in batches (see -BatchSize), each batch one transaction that re-checks accessed < cutoff, so the app''s write lock is only held briefly, a session saved while the cleanup runs survives, and Ctrl+C stops between batches leaving the store consistent. With SQLite, a batch waits up to 30 s for the write lock the app holds instead of failing; on PostgreSQL and MySQL a batch waits for the rows a request holds locked, up to 120 s.'
        'ConfirmImpact is Medium, so under default preferences it never prompts (for scheduled tasks). -WhatIf writes the number of sessions and the cutoff and changes nothing; -Confirm asks once per store, with the count. Nothing is written to the pipeline unless -PassThru is given; -Verbose writes one summary line per store. A failing batch is a terminating error that says how many sessions were removed before it; running the command again finishes the job. In a script run by pwsh -File, set $ErrorActionPreference = ''Stop'' so that a failure makes pwsh exit with 1.'
        'Sessions piped from Get-BeakerSession (they carry BeakerId and BeakerStore) or given with -Id are removed whatever their age, in batches per store; -Timeout cannot be combined with ids, and an empty pipeline removes nothing.'
        'File stores (type = file or dbm, or data_dir without a type, as Beaker chooses): a session is old when its file''s modification time (the last save) is before the cutoff. Each old session is removed while this command holds Beaker''s own lock on it (lock_dir or data_dir/container_file_lock, a sha1-named .lock file), with the time checked again just before: a session a request is loading or saving is left for the next run (a warning says so), and one saved meanwhile stays. Its lock file goes with it. The cleanup also removes lock files older than the cutoff that no process holds (Beaker never deletes them, and they use up inodes), .cache.temp files older than the cutoff (left by a save that died), and the folders left empty. dbm sessions are removed with all the files of their dbm flavour. Nothing outside the store''s folders is touched: links are never followed or removed (a warning names them), and a file that cannot be removed is a non-terminating error for that file alone.'
    )
    Parameters  = @{
        ConfigPath = 'The app''s paste.deploy ini file, resolved like any PowerShell path. Append #name to read [app:name] instead of [app:main].'
        Prefix     = 'The prefix of the session settings in the ini file. Default: beaker.session.'
        Url        = 'A SQLAlchemy URL of the store, for use without an ini file: sqlite:///relative/path.db, sqlite:////absolute/path.db, postgresql://user:password@host/dbname or mysql://user:password@host/dbname (see Get-Help Get-BeakerSession -Parameter Url).'
        TableName  = 'The table, with -Url. Default: beaker_cache.'
        SchemaName = 'The schema of the table, with -Url.'
        Timeout    = 'Removes sessions not accessed for longer than this: 3s, 14m, 36h, 2d, a number of seconds, or a [TimeSpan]. Default: <prefix>.timeout in seconds. 0, or no timeout at all, is refused.'
        TimeZone   = 'The app server''s time zone, when it differs from this machine''s: Beaker writes accessed as that server''s local time without a zone, and the cutoff is compared with it. An IANA id (Europe/Vilnius), a Windows id (FLE Standard Time), UTC, Local, or a [TimeZoneInfo] from Get-TimeZone. Default: this machine''s zone. When the cutoff falls in the hour a daylight-saving change repeats, it moves back by that hour, so no live session looks old.'
        Id         = 'Session ids to remove whatever their age. Sessions piped from Get-BeakerSession bind by their BeakerId property; strings bind by value.'
        Store      = 'The store a piped session came from: the BeakerStore property of the objects Get-BeakerSession emits. Not typed by hand.'
        BatchSize  = 'Rows per delete statement and transaction, fixed (for file stores: sessions per reported batch). Without it, batches start at 5000 rows and are scaled towards 0.7 s each (kept between 0.5 and 0.9 s; at most 100 000 rows): the write lock is held under a second, and the fixed cost of a batch is spread over as many rows as that allows. On a PostgreSQL ext:database table, whose DELETE locks only the rows it deletes, each adaptive batch is a window of ids (up to 1 000 000) sized the same way.'
        PassThru   = 'Emits one BeakerHelpers.RemovalSummary per store: Store, Cutoff, TimeZone, Requested, Removed, Batches, LongestBatch and Duration, and for file stores LockFiles, TempFiles and Folders (what was removed besides the sessions).'
    }
    Examples    = @(
        @{ Code = 'Remove-BeakerSession -ConfigPath prod.ini'; Remarks = 'Removes the sessions older than the app''s beaker.session.timeout.' }
        @{ Code = 'Remove-BeakerSession prod.ini -Timeout 2d -WhatIf'; Remarks = 'Says how many sessions are older than two days and which cutoff that is; changes nothing.' }
        @{ Code = 'Remove-BeakerSession prod.ini -Timeout 2d -PassThru | Format-Table'; Remarks = 'Removes sessions older than two days and shows what was done, for a log.' }
        @{ Code = 'Get-BeakerSession prod.ini -Timeout 0 | Where-Object user_name -eq ''bob'' | Remove-BeakerSession'; Remarks = 'Logs bob out everywhere: removes his sessions whatever their age.' }
        @{ Code = 'Remove-BeakerSession prod.ini -Id 0f3c5e1a9d2b4c6e8f0a1b2c3d4e5f60, 9a1b77c2e3d4f5a6b7c8d9e0f1a2b3c4'; Remarks = 'Removes two sessions by id.' }
        @{ Code = 'Remove-BeakerSession /srv/app/production.ini -Timeout 7d -PassThru'; Remarks = 'With beaker.session.type = file (or dbm) and data_dir: removes the session files not saved for a week, their lock files, unused old lock files, half-written leftovers and empty folders.' }
        @{ Code = 'Remove-BeakerSession -Url sqlite:////srv/app/sessions.db -Timeout 36h -TimeZone America/New_York'; Remarks = 'Cleans the store of an app server that runs in New York time, from a machine in another zone.' }
        @{ Code = "`$ErrorActionPreference = 'Stop'`nImport-Module BeakerHelpers`nRemove-BeakerSession -ConfigPath /srv/app/production.ini -Timeout 2d"; Remarks = 'A script for cron, a systemd timer or Task Scheduler (pwsh -NoProfile -NonInteractive -File cleanup.ps1): it never prompts, and exits with 1 when the removal fails.' }
    )
    Inputs      = @(
        @{ Type = 'BeakerHelpers.Session'; Description = 'Sessions from Get-BeakerSession, removed by their BeakerId from their BeakerStore.' }
        @{ Type = 'System.String'; Description = 'Session ids, with -ConfigPath or -Url.' }
    )
    Outputs     = @(@{ Type = 'BeakerHelpers.RemovalSummary'; Description = 'With -PassThru, one summary per store. Otherwise nothing.' })
}
