@{
    Synopsis    = 'Audits a Beaker site''s session set-up: expiry, serializer, cookie flags, signing and key strength.'
    Description = @(
        'Test-BeakerConfiguration reads the session settings from the app''s paste.deploy ini file exactly as the other BeakerHelpers cmdlets (and Beaker) read them, and emits one BeakerHelpers.ConfigurationFinding per rule that applies: RuleName (stable, for scripts), Severity (Error, Warning or Information), Setting (the ini key), Message (what is wrong and why it matters), Recommendation (what to set or run) and Source (the ini file and section). The rules are documented one by one, with their reasons and sources, in docs/audit.md.'
        'The rules: NoTimeout, PickleSerializer, UnsignedSessionId, CookieNotHttpOnly, CookieNotSecure, SameSiteNoneWithoutSecure, WeakKey (a secret, validate_key or encrypt_key under 30 characters or with fewer than 5 distinct ones is an Error, under 50 a Warning: Beaker signs with HMAC-SHA1 and derives its cipher key with one PBKDF2 iteration), CookieSessionNotEncrypted, ValidateKeyMissing, ExpiryIgnored (memcached and MongoDB), AccessTimeNotSaved and TimeoutOutlivesCookie.'
        'No finding ever shows a key, a secret or a password: messages give a key''s length and variety only.'
        '-Quiet returns $true when no finding is an Error or a Warning and $false otherwise, and nothing else, for deployment pipelines.'
    )
    Parameters  = @{
        EncryptKey  = 'encrypt_key, when the ini file does not hold it (or to override it), for -Scan, which reads the store; the rules judge the ini''s own keys: a [SecureString], a [PSCredential] whose password is the key, or a string. Never shown.'
        ValidateKey = 'validate_key, when the ini file does not hold it (or to override it); as -EncryptKey.'
        ConfigPath = 'The app''s paste.deploy ini files, resolved like any PowerShell path, with wildcards; each is audited in turn. Takes paths from the pipeline. Append #name to read [app:name] instead of [app:main]. Aliases: Path, Config.'
        LiteralPath = 'Like -ConfigPath, but taken as written: no wildcards. Files piped from Get-ChildItem bind here (by their PSPath). Aliases: PSPath, LP, FullName.'
        Prefix     = 'The prefix of the session settings in the ini file. Default: beaker.session.'
        Url        = 'A store URL, for use without an ini file: only the rules that need no ini setting apply, with Beaker''s defaults for the rest.'
        TableName  = 'The table, with -Url. Default: beaker_cache.'
        SchemaName = 'The schema of the table, with -Url.'
        Timeout    = 'Has no effect on the rules, which judge the app''s own timeout; accepted as the other cmdlets accept it.'
        TimeZone   = 'Has no effect on the rules; accepted as the other cmdlets accept it.'
        Quiet      = 'Returns only $true (no Error or Warning) or $false.'
        Scan       = 'Also reads the store, read-only and streamed like a listing: PlantedCode (a session whose pickle calls a function that runs code, such as posix.system, subprocess.Popen or builtins.eval; one finding per session, naming them; nothing is ever imported or run), ExpiredSessionsPresent (sessions older than the app''s timeout: no cleanup runs), UnreadableSessions, EncryptionNotApplied (keys in the ini but plain sessions in the store) and, for file and dbm stores, LockFileBuildUp.'
    }
    Defaults    = @{ Prefix = 'beaker.session' }
    Examples    = @(
        @{ Code = 'Test-BeakerConfiguration prod.ini'; Remarks = 'Every finding about prod.ini''s [app:main] session settings, as a table.' }
        @{ Code = 'Test-BeakerConfiguration prod.ini | Where-Object Severity -eq Error | Format-List RuleName, Message, Recommendation'; Remarks = 'Only the errors, with what to do about each.' }
        @{ Code = 'Test-BeakerConfiguration prod.ini -Scan | Where-Object RuleName -eq PlantedCode | Select-Object SessionId, Message'; Remarks = 'Sessions whose payloads would run code when the app loads them; the reader never runs them.' }
        @{ Code = 'if (-not (Test-BeakerConfiguration deploy/*.ini -Quiet)) { throw ''The session set-up has errors or warnings.'' }'; Remarks = 'A deployment pipeline''s gate over every ini file.' }
    )
    Inputs      = @(@{ Type = 'System.String[]'; Description = 'Paths of ini files (-ConfigPath), or objects with a PSPath or FullName property such as Get-ChildItem''s files (-LiteralPath).' })
    Outputs     = @(
        @{ Type = 'BeakerHelpers.ConfigurationFinding'; Description = 'One object per finding.' }
        @{ Type = 'System.Boolean'; Description = 'With -Quiet: $true when no finding is an Error or a Warning.' }
    )
}
