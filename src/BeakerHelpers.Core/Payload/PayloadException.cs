namespace BeakerHelpers.Core.Payload;

/// <summary>One stored payload that cannot be read. Listing reports it for that session and goes on.</summary>
public sealed class PayloadException : BeakerException
{
    public PayloadException(string message, string errorId = "SessionCorrupt", Exception? inner = null)
        : base(errorId, BeakerErrorKind.InvalidData, message, inner)
    {
    }
}
