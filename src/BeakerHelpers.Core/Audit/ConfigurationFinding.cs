namespace BeakerHelpers.Core.Audit;

/// <summary>How much a finding matters: an Error is exploitable or breaks the site; a Warning is risky; Information is worth knowing.</summary>
public enum FindingSeverity
{
    Error,
    Warning,
    Information,
}

/// <summary>
/// One thing Test-BeakerConfiguration found (docs/audit.md): a stable rule name, how much it matters, the setting (or
/// the store) it is about, what is wrong and why, what to do, and the ini file and section. Never a key or password.
/// </summary>
public sealed record ConfigurationFinding(string RuleName, FindingSeverity Severity, string Setting, string Message, string Recommendation, string Source)
{
    /// <summary>The session a store finding is about; null for findings about the settings.</summary>
    public string? SessionId { get; init; }
}
