using System.Collections;
using BeakerHelpers.Core.Payload.Values;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using BeakerHelpers.Core.Sessions;

namespace BeakerHelpers.Core.Tests;

/// <summary>Checks a decoded .NET value against the [type, value] description the fixture writer made from the Python value.</summary>
public static class ExpectedValue
{
    public static void AssertMatches(JsonElement expected, object? actual, string path) => AssertMatches(expected, actual, path, new List<object?>());

    /// <param name="parents">The values enclosing this one, innermost last: a 'cycle' refers back to one of them.</param>
    private static void AssertMatches(JsonElement expected, object? actual, string path, List<object?> parents)
    {
        var type = expected[0].GetString();
        var value = expected[1];
        parents.Add(actual);
        try
        {
            AssertKind(type, value, actual, path, parents);
        }
        finally
        {
            parents.RemoveAt(parents.Count - 1);
        }
    }

    private static void AssertKind(string? type, JsonElement value, object? actual, string path, List<object?> parents)
    {
        switch (type)
        {
            case "cycle":
                // The same object as the one value.GetInt32() levels up: a list that contains itself.
                // A session's own list met again inside itself is a PythonList over the same items.
                var enclosing = parents[parents.Count - 1 - value.GetInt32()];
                if (!ReferenceEquals(enclosing, actual))
                {
                    var again = Assert.IsType<PythonList>(actual);
                    var outer = Assert.IsType<object?[]>(enclosing);
                    Assert.Equal(outer.Length, again.Count);
                    Assert.All(Enumerable.Range(0, outer.Length), i => Assert.Same(outer[i], again[i]));
                }

                break;
            case "enum":
                var enumMember = Assert.IsType<PythonEnumMember>(actual);
                Assert.Equal(value.GetProperty("class").GetString(), enumMember.__class__);
                Assert.Equal(value.GetProperty("names").EnumerateArray().Select(n => n.GetString()!).ToList(), enumMember.name.Split('|').OrderBy(n => n, StringComparer.Ordinal).ToList());
                break;
            case "complex":
                var complex = Assert.IsType<Complex>(actual);
                Assert.Equal(double.Parse(value[0].GetString()!, CultureInfo.InvariantCulture), complex.Real);
                Assert.Equal(double.Parse(value[1].GetString()!, CultureInfo.InvariantCulture), complex.Imaginary);
                break;
            case "fields":
                var fields = Assert.IsAssignableFrom<PythonDict>(actual);
                foreach (var field in value.EnumerateObject())
                {
                    Assert.True(fields.Contains(field.Name), $"{path}: field '{field.Name}' missing");
                    AssertMatches(field.Value, fields[field.Name], $"{path}.{field.Name}", parents);
                }

                break;
            case "object":
                var obj = Assert.IsAssignableFrom<PythonObject>(actual);
                Assert.Equal(value.GetProperty("class").GetString(), obj.ClassName);
                Assert.Equal(obj.ClassName, obj[PythonObject.ClassKey]);
                if (value.TryGetProperty("args", out var args))
                {
                    var actualArgs = Assert.IsType<PythonList>(obj[PythonObject.ArgsKey]);
                    Assert.Equal(args.GetArrayLength(), actualArgs.Count);
                    for (var i = 0; i < actualArgs.Count; i++)
                    {
                        AssertMatches(args[i], actualArgs[i], $"{path}.__args__[{i}]", parents);
                    }
                }

                if (value.TryGetProperty("kwargs", out var kwargs))
                {
                    AssertMatches(kwargs, obj[PythonObject.KwargsKey], $"{path}.__kwargs__", parents);
                }

                if (value.TryGetProperty("items", out var objectItems))
                {
                    AssertMatches(objectItems, obj[PythonObject.ItemsKey], $"{path}.__items__", parents);
                }

                if (value.TryGetProperty("state", out var state))
                {
                    foreach (var field in state.EnumerateObject())
                    {
                        Assert.True(obj.Contains(field.Name), $"{path}: state key '{field.Name}' missing");
                        AssertMatches(field.Value, obj[field.Name], $"{path}.{field.Name}", parents);
                    }
                }

                break;
            case "none":
                Assert.True(actual == null, $"{path}: expected None, got {actual}");
                break;
            case "bool":
                Assert.Equal(value.GetBoolean(), Assert.IsType<bool>(actual));
                break;
            case "int":
                var number = BigInteger.Parse(value.GetString()!, CultureInfo.InvariantCulture);
                if (number >= long.MinValue && number <= long.MaxValue)
                {
                    Assert.Equal((long)number, Assert.IsType<long>(actual));
                }
                else
                {
                    Assert.Equal(number, Assert.IsType<BigInteger>(actual));
                }

                break;
            case "float":
                Assert.Equal(double.Parse(value.GetString()!, CultureInfo.InvariantCulture), Assert.IsType<double>(actual));
                break;
            case "str":
                Assert.Equal(value.GetString(), Assert.IsType<string>(actual));
                break;
            case "bytes":
                Assert.Equal(Convert.FromBase64String(value.GetString()!), Assert.IsType<byte[]>(actual));
                break;
            case "datetime":
            case "date":
                Assert.Equal(DateTime.Parse(value.GetString()!, CultureInfo.InvariantCulture), Assert.IsType<DateTime>(actual));
                break;
            case "datetimetz":
                var offset = DateTimeOffset.Parse(value.GetString()!, CultureInfo.InvariantCulture);
                var actualOffset = Assert.IsType<DateTimeOffset>(actual);
                Assert.Equal(offset, actualOffset);
                Assert.Equal(offset.Offset, actualOffset.Offset);
                break;
            case "time":
                Assert.Equal(TimeSpan.Parse(value.GetString()!, CultureInfo.InvariantCulture), Assert.IsType<TimeSpan>(actual));
                break;
            case "timedelta":
                Assert.Equal(value.GetDouble(), Assert.IsType<TimeSpan>(actual).TotalSeconds, 6);
                break;
            case "decimal":
                Assert.Equal(decimal.Parse(value.GetString()!, CultureInfo.InvariantCulture), Assert.IsType<decimal>(actual));
                break;
            case "uuid":
                Assert.Equal(Guid.Parse(value.GetString()!), Assert.IsType<Guid>(actual));
                break;
            case "list":
                // A list is a PythonList at every depth (its text is what Export-Csv writes).
                var items = Assert.IsType<PythonList>(actual);
                var expectedItems = value.EnumerateArray().ToList();
                Assert.Equal(expectedItems.Count, items.Count);
                for (var i = 0; i < items.Count; i++)
                {
                    AssertMatches(expectedItems[i], items[i], $"{path}[{i}]", parents);
                }

                break;
            case "set":
                var members = Assert.IsAssignableFrom<IList>(actual).Cast<object?>().ToList();
                Assert.Equal(value.GetArrayLength(), members.Count);
                foreach (var member in value.EnumerateArray())
                {
                    Assert.Contains(members, m => Matches(member, m));
                }

                break;
            case "dict":
                var dict = Assert.IsAssignableFrom<PythonDict>(actual);
                Assert.Equal(value.GetArrayLength(), dict.Count);
                foreach (var pair in value.EnumerateArray())
                {
                    // [name, value, key] from make_value_stores.py (the key's text as Python writes it, and the key itself);
                    // [key, value] from make_fixtures.py, whose dicts have str keys.
                    var key = pair.GetArrayLength() == 3 ? pair[0].GetString()! : pair[0][1].ValueKind == JsonValueKind.String ? pair[0][1].GetString()! : pair[0][1].ToString();
                    Assert.True(dict.Contains(key), $"{path}: key '{key}' missing");
                    AssertMatches(pair[1], dict[key], $"{path}.{key}", parents);
                    if (pair.GetArrayLength() == 3)
                    {
                        AssertMatches(pair[2], dict.Entries.Single(e => e.Name == key).Key, $"{path}.{key} (key)", parents);
                    }
                }

                break;
            case "class":
                var instance = Assert.IsAssignableFrom<PythonDict>(actual);
                Assert.Equal(value.GetProperty("__class__").GetString(), instance["__class__"]);
                foreach (var field in value.GetProperty("state").EnumerateObject())
                {
                    AssertMatches(field.Value, instance[field.Name], $"{path}.{field.Name}", parents);
                }

                break;
            default:
                throw new InvalidOperationException($"{path}: unknown expected type {type}");
        }
    }

    /// <summary>Compares a whole session: the same keys, and each value as the writer saved it.</summary>
    public static void AssertSession(JsonElement expectedValues, IReadOnlyList<KeyValuePair<string, object?>> actual, string id)
    {
        var actualMap = actual.ToDictionary(p => p.Key, p => p.Value);
        var expectedKeys = expectedValues.EnumerateObject().Select(p => p.Name).OrderBy(k => k, StringComparer.Ordinal).ToList();
        Assert.Equal(expectedKeys, actualMap.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList());
        foreach (var property in expectedValues.EnumerateObject())
        {
            var value = actualMap[property.Name];
            if (property.Name is "_accessed_time" or "_creation_time")
            {
                var seconds = double.Parse(property.Value[1].GetString()!, CultureInfo.InvariantCulture);
                var local = Assert.IsType<DateTime>(value);
                Assert.Equal(DateTimeKind.Local, local.Kind);
                Assert.Equal(SessionReader.FromUnixTime(seconds), local);
                Assert.InRange((local.ToUniversalTime() - DateTime.UnixEpoch).TotalSeconds, seconds - 0.001, seconds + 0.001);
                continue;
            }

            AssertMatches(property.Value, value, $"{id}.{property.Name}");
        }
    }

    private static bool Matches(JsonElement expected, object? actual)
    {
        try
        {
            AssertMatches(expected, actual, "set member");
            return true;
        }
        catch (Xunit.Sdk.XunitException)
        {
            return false;
        }
    }
}
