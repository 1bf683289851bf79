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
    public static void AssertMatches(JsonElement expected, object? actual, string path)
    {
        var type = expected[0].GetString();
        var value = expected[1];
        switch (type)
        {
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
                var items = Assert.IsType<object[]>(actual);
                var expectedItems = value.EnumerateArray().ToList();
                Assert.Equal(expectedItems.Count, items.Length);
                for (var i = 0; i < items.Length; i++)
                {
                    AssertMatches(expectedItems[i], items[i], $"{path}[{i}]");
                }

                break;
            case "set":
                var members = Assert.IsType<object[]>(actual).ToList();
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
                    var key = pair[0][1].ValueKind == JsonValueKind.String ? pair[0][1].GetString()! : pair[0][1].ToString();
                    Assert.True(dict.Contains(key), $"{path}: key '{key}' missing");
                    AssertMatches(pair[1], dict[key], $"{path}.{key}");
                }

                break;
            case "class":
                var instance = Assert.IsAssignableFrom<PythonDict>(actual);
                Assert.Equal(value.GetProperty("__class__").GetString(), instance["__class__"]);
                foreach (var field in value.GetProperty("state").EnumerateObject())
                {
                    AssertMatches(field.Value, instance[field.Name], $"{path}.{field.Name}");
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
