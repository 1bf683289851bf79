using System.Collections.ObjectModel;
using System.Globalization;
using BeakerHelpers.Core.Sessions;

namespace BeakerHelpers.Module.Output;

/// <summary>
/// Gives each set of keys a type name of its own, whose type data's DefaultDisplayPropertySet names the id, the times
/// and those keys: Format-List (without -Property) then shows what one session holds, not the union of every
/// session's keys that its properties report. Sessions that share a <see cref="SessionKeySet"/> share its type names;
/// the type data is registered once per key set, and past <see cref="MaxKeySets"/> sets a session keeps the plain
/// type names (docs/views.md#list).
/// </summary>
internal sealed class SessionDisplayTypes
{
    public const int MaxKeySets = 200;

    private readonly Dictionary<string, Collection<string>> _bySignature = new(StringComparer.Ordinal);
    private readonly Func<string, string[], bool> _register;
    private readonly Collection<string> _plain;

    /// <param name="register">Registers the type data of a type name; false when it could not.</param>
    public SessionDisplayTypes(bool expiring, Func<string, string[], bool> register)
    {
        _register = register;
        _plain = Hierarchy(null, expiring);
    }

    public Collection<string> For(BeakerSession session) => session.KeySet.TypeNames ??= TypesOf(session);

    private Collection<string> TypesOf(BeakerSession session)
    {
        var names = new List<string>(session.Values.Count + 4)
        {
            SessionPropertySet.IdProperty, SessionPropertySet.AccessedProperty, SessionPropertySet.CreatedProperty,
        };
        if (session.Properties.Expiring)
        {
            names.Add(SessionPropertySet.TtlProperty);
        }

        foreach (var (key, _) in SessionSummary.OwnKeys(session.Values))
        {
            var name = session.Properties.NameOf(key);
            if (!names.Contains(name))
            {
                names.Add(name);
            }
        }

        var signature = string.Join('\0', names);
        if (!_bySignature.TryGetValue(signature, out var types))
        {
            types = _plain;
            if (_bySignature.Count < MaxKeySets)
            {
                var typeName = BeakerSession.TypeName + "#Keys" + Hash(signature);
                if (_register(typeName, names.ToArray()))
                {
                    types = Hierarchy(typeName, session.Properties.Expiring);
                }
            }

            _bySignature[signature] = types;
        }

        return types;
    }

    /// <summary>
    /// The session's type names: BeakerHelpers.Session first (its table view, and what scripts test for), then the key
    /// set's own type, whose type data PowerShell still finds (it looks a member up through every name in order).
    /// </summary>
    private static Collection<string> Hierarchy(string? keysType, bool expiring)
    {
        var names = new Collection<string>();
        if (expiring)
        {
            names.Add(BeakerSession.ExpiringTypeName);
        }

        names.Add(BeakerSession.TypeName);
        if (keysType != null)
        {
            names.Add(keysType);
        }

        names.Add(typeof(BeakerSession).FullName!);
        names.Add("System.Object");
        return names;
    }

    private static string Hash(string text)
    {
        var hash = 14695981039346656037ul;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211ul;
        }

        return hash.ToString("x16", CultureInfo.InvariantCulture);
    }
}
