namespace BeakerHelpers.Core;

/// <summary>What kind of failure a <see cref="BeakerException"/> is; the cmdlets map it to an error category.</summary>
public enum BeakerErrorKind
{
    InvalidArgument,
    NotFound,
    InvalidData,
    ConnectionError,
    PermissionDenied,
    NotImplemented,
}

/// <summary>
/// A failure the user can act on. <see cref="ErrorId"/> is stable (tests and scripts match on it);
/// the message names the input and what would fix it, and never holds a password or a key.
/// </summary>
public class BeakerException : Exception
{
    public BeakerException(string errorId, BeakerErrorKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
    }

    public string ErrorId { get; }

    public BeakerErrorKind Kind { get; }
}
