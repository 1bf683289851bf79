using System.Management.Automation;
using System.Security;

namespace BeakerHelpers.Module.Commands;

/// <summary>
/// Lets a key parameter take a [SecureString] (Read-Host -AsSecureString, a vault), a [PSCredential]
/// (its password) or, for convenience in a session, a plain string.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SecretTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        switch (value)
        {
            case SecureString secure:
                return secure;
            case PSCredential credential:
                return credential.Password;
            case string text:
                var result = new SecureString();
                foreach (var c in text)
                {
                    result.AppendChar(c);
                }

                result.MakeReadOnly();
                return result;
            default:
                throw new ArgumentTransformationMetadataException("A key is a [SecureString], a [PSCredential] (its password is the key) or a string.");
        }
    }
}
