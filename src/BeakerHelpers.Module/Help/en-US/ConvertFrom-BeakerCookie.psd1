@{
    Synopsis    = 'Reads and verifies a Beaker session cookie: the session a cookie holds, or the stored session it names.'
    Description = @(
        'ConvertFrom-BeakerCookie takes what a browser holds, as a bare cookie value, as name=value, or as a whole Cookie: or Set-Cookie: header, and picks the cookie the app''s ini file names (<prefix>.key, by default beaker.session.id). It reads the settings exactly as the other BeakerHelpers cmdlets do.'
        'For a cookie session (type = cookie) the HMAC-SHA1 signature is checked, in constant time, with validate_key; only then is the payload decrypted (with encrypt_key, every cipher Get-BeakerSession knows) and decoded by the same reader, into the same object Get-BeakerSession emits: BeakerId is the session''s _id, BeakerAccessed and BeakerCreated its times in the app server''s zone, BeakerStore names the cookie. For a server-side store the signed id is checked with secret (or, when the ini has no secret, taken as it is, with a warning: the site then accepts any id a visitor sends) and the session is looked up in the store as Get-BeakerSession -Id does; a session that is not there is the error SessionNotFound.'
        'Every object also has BeakerExpired: $true when the session was last used before the app''s timeout (Beaker no longer accepts it).'
        'A signature that does not verify (another app''s cookie, a changed value, other keys) is the non-terminating error CookieSignatureInvalid, and nothing of the cookie is decoded. Errors name the cookie, never its value; keys never appear anywhere.'
    )
    Parameters  = @{
        ConfigPath  = 'The app''s paste.deploy ini file, resolved like any PowerShell path. Append #name to read [app:name] instead of [app:main]. Aliases: Path, Config.'
        LiteralPath = 'Like -ConfigPath, taken as written. Aliases: PSPath, LP.'
        Value       = 'The cookie: its value, name=value, or a whole Cookie: or Set-Cookie: header. Takes values from the pipeline, one session each.'
        Prefix      = 'The prefix of the session settings in the ini file. Default: beaker.session.'
        Url         = 'A store URL, for a server-side store without an ini file (no secret: ids are taken as they are).'
        TableName   = 'The table, with -Url. Default: beaker_cache.'
        SchemaName  = 'The schema of the table, with -Url.'
        Timeout     = 'Has no effect: BeakerExpired follows the app''s own timeout.'
        TimeZone    = 'The app server''s time zone, for BeakerAccessed and BeakerCreated. Default: this machine''s zone.'
        EncryptKey  = 'encrypt_key, when the ini does not hold it: a [SecureString], a [PSCredential] whose password is the key, or a string.'
        ValidateKey = 'validate_key (which signs a cookie session), when the ini does not hold it; as -EncryptKey.'
        Secret      = 'secret (which signs a server-side session''s id), when the ini does not hold it; as -EncryptKey.'
    }
    Defaults    = @{ Prefix = 'beaker.session'; TimeZone = 'this machine''s zone' }
    Examples    = @(
        @{ Code = 'ConvertFrom-BeakerCookie prod.ini -Value ''beaker.session.id=5d41…'''; Remarks = 'The session a support request''s cookie belongs to, verified and decoded.' }
        @{ Code = 'Get-Clipboard | ConvertFrom-BeakerCookie prod.ini | Format-List'; Remarks = 'A whole Cookie: header copied from the browser''s developer tools: the app''s cookie is picked from it.' }
        @{ Code = 'ConvertFrom-BeakerCookie prod.ini -Value $header -ValidateKey (Read-Host -AsSecureString)'; Remarks = 'The key typed in, not kept in the ini file or a script.' }
    )
    Inputs      = @(@{ Type = 'System.String[]'; Description = 'Cookie values or headers (-Value).' })
    Outputs     = @(@{ Type = 'BeakerHelpers.Session'; Description = 'One object per cookie, as Get-BeakerSession emits, with BeakerExpired.' })
}
