using System.Collections.ObjectModel;
using System.Globalization;
using System.Runtime.CompilerServices;
using BeakerHelpers.Core.Payload.Values;
using BeakerHelpers.Core.Sessions;
using BeakerHelpers.Core.Text;

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
        _escaped = Hierarchy(BeakerSession.EscapedTypeName, expiring);
    }

    /// <summary>
    /// The type names of a session whose id, keys or values hold characters a terminal acts on: its list view
    /// (BeakerHelpers.Session#Escaped) shows them escaped, where the type data of its key set would show them raw.
    /// </summary>
    private readonly Collection<string> _escaped;

    /// <summary>Gives the session its type names: its key set's, or the escaped view's when it holds control characters (decided lazily).</summary>
    public void Give(BeakerSession session) => session.SetTypeNames(session.KeySet.TypeNames ??= TypesOf(session), _escaped);

    /// <summary>
    /// Whether Format-List would send something of the session raw to the terminal: its id, a key, a string value, or a
    /// string in a list (PowerShell shows a list's items by their own text). Nested values show escaped by themselves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool HoldsControlCharacters(BeakerSession session)
    {
        if (ScreenText.NeedsEscape(session.Id))
        {
            return true;
        }

        foreach (var (key, value) in session.Values)
        {
            if (ScreenText.NeedsEscape(key))
            {
                return true;
            }

            switch (value)
            {
                case string text when ScreenText.NeedsEscape(text):
                    return true;
                case PythonList items:
                    for (var i = 0; i < items.Count; i++)
                    {
                        if (items[i] is string itemText && ScreenText.NeedsEscape(itemText))
                        {
                            return true;
                        }
                    }

                    break;
            }
        }

        return false;
    }

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
