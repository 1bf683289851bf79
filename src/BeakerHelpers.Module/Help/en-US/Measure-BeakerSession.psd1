@{
    Synopsis    = 'Tells how many sessions a Beaker store holds, how big and how old they are, and how many a cleanup would remove.'
    Description = @(
        'Measure-BeakerSession reads the store from the app''s paste.deploy ini file (or -Url) exactly as Get-BeakerSession does and emits one BeakerHelpers.SessionStatistics object: total rows; session rows and other rows (a Beaker cache sharing the table); with a timeout (-Timeout, else <prefix>.timeout), how many are active and how many are old, which is what Remove-BeakerSession with the same timeout removes; the oldest and newest access; payload bytes in total, on average and the largest; and an age histogram (UnderOneHour, OneHourToOneDay, OneToSevenDays, SevenToThirtyDays, OlderThanThirtyDays). Folder stores also report their lock files and half-written .cache.temp files.'
        'A table is measured by one aggregate query in the database: no payload leaves it. A row counts as a session when its payload starts as a Beaker session''s does (the key ''session'' within its first 64 bytes, or an empty dict); everything else is counted as other rows. A folder store is measured in one walk of its file times and sizes; every session file counts as a session.'
        '-Detailed also decodes every session once, as Get-BeakerSession does, with bounded memory, and adds EmptySessions (sessions that hold nothing but Beaker''s own keys: _accessed_time, _creation_time, _domain, _path, _expires, _id; crawlers and health checks leave them), UnreadableSessions (corrupt, or encrypted without the keys) and CommonKeys (the ten keys most sessions hold, with their counts). Encrypted sessions are decrypted with the keys in the ini file.'
        'Format-Table shows one line per store; Format-List shows every figure, the histogram included.'
    )
    Parameters  = @{
        EncryptKey  = 'encrypt_key, when the ini file does not hold it (or to override it), so that -Detailed decodes encrypted sessions and a Redis or memcached store dates them: a [SecureString], a [PSCredential] whose password is the key, or a string. Never shown.'
        ValidateKey = 'validate_key, when the ini file does not hold it (or to override it); as -EncryptKey.'
        ConfigPath = 'The app''s paste.deploy ini files, resolved like any PowerShell path, with wildcards; one statistics object per store, in turn. Takes paths from the pipeline. Append #name to read [app:name] instead of [app:main]. Aliases: Path, Config.'
        LiteralPath = 'Like -ConfigPath, but taken as written: no wildcards. Files piped from Get-ChildItem bind here (by their PSPath). Aliases: PSPath, LP, FullName.'
        Prefix     = 'The prefix of the session settings in the ini file. Default: beaker.session.'
        Url        = 'A SQLAlchemy URL of the store, for use without an ini file (see Get-Help Get-BeakerSession -Parameter Url). A Redis URL (redis://[[user]:password@]host[:port][/db], rediss:// or unix:///path/to.sock?db=N) reads Beaker''s ext:redis store instead.'
        TableName  = 'The table, with -Url. Default: beaker_cache.'
        SchemaName = 'The schema of the table, with -Url.'
        Timeout    = 'Counts sessions not accessed for longer than this as old: 3s, 14m, 36h, 2d, 1.5d, 1d12h, 1w, a number of seconds, a TimeSpan or an ISO 8601 duration (P2D). Default: <prefix>.timeout in seconds; 0 or none leaves Active and Old empty.'
        TimeZone   = 'The app server''s time zone, when it differs from this machine''s: the rows'' access times are that server''s local time without a zone, and the timeout and the histogram are counted in it. An IANA id, a Windows id, UTC, Local or a [TimeZoneInfo]. Default: this machine''s zone.'
        Detailed   = 'Also decodes every session: EmptySessions, UnreadableSessions and CommonKeys. Takes about as long as listing the sessions.'
    }
    Defaults    = @{ Timeout = '<prefix>.timeout from the ini file, else none (Active and Old not counted)'; TimeZone = 'this machine''s zone' }
    Examples    = @(
        @{ Code = 'Measure-BeakerSession -ConfigPath prod.ini'; Remarks = 'How many sessions, how big, and how many are older than the app''s beaker.session.timeout.' }
        @{ Code = 'Measure-BeakerSession prod.ini -Timeout 2d | Format-List'; Remarks = 'Every figure, with the age histogram; Old is what Remove-BeakerSession prod.ini -Timeout 2d would remove.' }
        @{ Code = 'Measure-BeakerSession prod.ini -Detailed | Select-Object SessionRows, EmptySessions, UnreadableSessions, CommonKeys'; Remarks = 'How many sessions hold nothing the app stored, and which keys the others hold.' }
        @{ Code = 'Measure-BeakerSession -Url postgresql://beaker:secret@db/app -Timeout 30d'; Remarks = 'A store given by its URL, without an ini file.' }
    )
    Inputs      = @(@{ Type = 'System.String[]'; Description = 'Paths of ini files (-ConfigPath), or objects with a PSPath or FullName property such as Get-ChildItem''s files (-LiteralPath).' })
    Outputs     = @(@{ Type = 'BeakerHelpers.SessionStatistics'; Description = 'One object for the store.' })
}
