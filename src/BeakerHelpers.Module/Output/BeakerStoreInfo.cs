using BeakerHelpers.Core.Config;

namespace BeakerHelpers.Module.Output;

/// <summary>
/// Which store a session came from: shows as its description (never a password), and carries the settings
/// that Remove-BeakerSession needs to reopen the store when sessions are piped to it.
/// </summary>
public sealed class BeakerStoreInfo
{
    internal BeakerStoreInfo(SessionSettings settings, string description)
    {
        Settings = settings;
        Description = description;
    }

    public string Description { get; }

    internal SessionSettings Settings { get; }

    public override string ToString() => Description;
}
