@{
    Synopsis    = 'Lists the server-side sessions a Beaker web app stored, decoded, without Python.'
    Description = @(
        'Get-BeakerSession reads the session settings of a Python web app (Pylons, Pyramid, TurboGears, ...) from its paste.deploy ini file, opens the table Beaker stores sessions in (ext:database or ext:sqla; SQLite in this version) read-only, and emits one object per session, oldest access first.'
        'The properties of each object are the keys of the session: _accessed_time and _creation_time as local [datetime] (as the original paster beakersessions showed them), other values as .NET values (string, long or BigInteger, double, bool, $null, datetime, decimal, byte[], lists as arrays, dicts as ordered dictionaries). Instances of application classes become a dictionary with a __class__ entry: nothing from the database is ever imported or run.'
        'Every session of one call reports the same properties, the union of the keys seen (sorted by key), so Format-Table shows a column for each key. Four more properties describe the stored row: BeakerId (the session id), BeakerAccessed and BeakerCreated (the row''s times, the app server''s local time) and BeakerStore (which store, without any password). A session key that differs from another property name only by letter case gets a ~2 (~3, ...) suffix, because PowerShell property names ignore case.'
        'Settings are resolved as paste.deploy gives them to the app: the [app:main] section (or the one named after # in the path; [pipeline:main] leads to its last app), with [DEFAULT], %(here)s and other %(name)s interpolation, set/get and use = config:other.ini. Where a key is in both, the value SessionMiddleware sees in Pylons and TurboGears is used: the app section''s value, else the global one. Note that paste.deploy itself drops an app-section key that [DEFAULT] also sets (use "set key = value" to override a default), and that Pyramid never sees keys that are only in [DEFAULT].'
        '-Timeout filters in the database on the row''s accessed column (the end of the last request that used the session), compared with now minus the timeout in this machine''s local time (or -TimeZone), as the row holds the app server''s naive local times. Without -Timeout, <prefix>.timeout is used; without either, all sessions are listed.'
        'A row that cannot be decoded is reported as a non-terminating error (ErrorId SessionCorrupt or SessionEncrypted, the session id as target) and listing goes on. Rows that are cache namespaces sharing the table are skipped and counted in the verbose output. A missing file, section, setting or table is a terminating error that names it.'
    )
    Parameters  = @{
        ConfigPath = 'The app''s paste.deploy ini file, resolved like any PowerShell path (relative to the current location, ~, PS drives). Append #name to read the [app:name] section, as paste.deploy''s config:file.ini#name does. Aliases: Path, Config.'
        Prefix = 'The prefix of the session settings in the ini file. Default: beaker.session. The settings read are <prefix>.type, .url (else .sa.url), .table_name (default beaker_cache), .schema_name and .timeout.'
        Url = 'A SQLAlchemy URL of the store, for use without an ini file: sqlite:///relative/path.db (relative to the current location), sqlite:////absolute/path.db or sqlite:///C:\path\sessions.db. Query options are ignored (the file is always opened read-only).'
        TableName = 'The table, with -Url. Default: beaker_cache.'
        SchemaName = 'The schema of the table, with -Url.'
        Timeout = 'Lists only sessions accessed within this time: 3s, 14m, 36h, 2d, a number of seconds, or a [TimeSpan]. 0 lists all sessions whatever the config says. Default: <prefix>.timeout in seconds, else all sessions.'
        TimeZone = 'The app server''s time zone, when it differs from this machine''s: Beaker writes the row times as that server''s local time without a zone. An IANA id (Europe/Vilnius), a Windows id (FLE Standard Time), UTC, Local, or a [TimeZoneInfo] from Get-TimeZone. Default: this machine''s zone.'
    }
    Examples    = @(
        @{ Code = 'Get-BeakerSession -ConfigPath prod.ini | Format-Table'; Remarks = 'Shows the sessions the app of prod.ini still accepts (its beaker.session.timeout), one column per session key.' }
        @{ Code = 'Get-BeakerSession prod.ini -Timeout 36h | Where-Object user_name -like ''*@example.com'''; Remarks = 'Sessions used in the last 36 hours by users of example.com.' }
        @{ Code = 'Get-BeakerSession prod.ini -Timeout 0 | Measure-Object'; Remarks = 'Counts every stored session, however old.' }
        @{ Code = 'Get-BeakerSession ''multi.ini#admin'' -Prefix bkr.session'; Remarks = 'Reads the [app:admin] section of multi.ini, whose settings are named bkr.session.*.' }
        @{ Code = 'Get-BeakerSession -Url sqlite:////srv/app/data/sessions.db -TableName web_sessions -Timeout 2d'; Remarks = 'Reads a store without an ini file.' }
        @{ Code = 'Get-BeakerSession prod.ini -Verbose -ErrorVariable bad | Sort-Object _creation_time | Select-Object -Last 10'; Remarks = 'The ten newest sessions; the verbose stream says which file, table and cutoff were used, and $bad collects the rows that could not be read.' }
    )
    Outputs     = @(@{ Type = 'BeakerHelpers.Session'; Description = 'One object per session; its properties are the session keys plus BeakerId, BeakerAccessed, BeakerCreated and BeakerStore.' })
}
