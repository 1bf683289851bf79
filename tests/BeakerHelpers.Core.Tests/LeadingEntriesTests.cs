using System.Diagnostics;
using System.Text.Json;
using BeakerHelpers.Core.Payload;
using BeakerHelpers.Core.Payload.Pickle;
using BeakerHelpers.Core.Sessions;
using Xunit;

namespace BeakerHelpers.Core.Tests;

/// <summary>
/// LeadingEntries finds _accessed_time among a pickled dict's leading plain entries; wherever it answers, the answer is
/// the full reader's, and where it cannot be sure it leaves the answer to the reader (pickles by Python at every
/// protocol, tests/fixtures/leading_entries.py).
/// </summary>
[Trait("Category", "Python")]
public sealed class LeadingEntriesTests
{
    private static readonly Lazy<Dictionary<string, byte[]>> Pickles = new(Generate);

    private readonly SessionPayloadDecoder _decoder = new();

    public static TheoryData<string> Cases() => new(Generate().Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void AnswersOnlyWhatTheFullReaderAnswers(string name)
    {
        var pickle = Pickles.Value[name];
        var full = FullReader(pickle);
        var answered = LeadingEntries.TryFindNumber(pickle, BeakerKeys.AccessedTimeBytes, out var skimmed);
        if (answered)
        {
            Assert.Equal(full, skimmed);
        }

        Assert.Equal(full, _decoder.AccessedTimeOfValue(pickle));

        // Where Beaker's sessions put it, found without the reader, at every protocol; a visitor's text holding the
        // bytes of a forged entry is read as text, not taken for one.
        var kind = name.Split('/')[0];
        var protocol = name[^1] - '0';
        if ((kind == "after-bytes" && protocol >= 3) || kind is "beaker" or "accessed-first" or "after-plain-values" or "int" or "forged-before" or "many-entries" or "bool" or "text" or "none")
        {
            Assert.True(answered, $"{name}: not found among the leading plain entries");
        }

        if ((kind == "after-bytes" && protocol < 3) || kind is "after-datetime" or "inf" or "tuple" or "big-int" or "absent" or "empty" or "not-a-dict")
        {
            Assert.False(answered, $"{name}: answered {skimmed} where only the full reader can");
        }
    }

    [Fact]
    public void ATruncatedPickleIsLeftToTheReader()
    {
        var pickle = Pickles.Value["beaker/p2"];
        for (var length = 0; length < pickle.Length; length++)
        {
            if (LeadingEntries.TryFindNumber(pickle.AsSpan(0, length), BeakerKeys.AccessedTimeBytes, out var number))
            {
                // Only once the entry is whole, and then with its value.
                Assert.Equal(FullReader(pickle), number);
            }
        }
    }

    /// <summary>The full reader's answer: the decoded session's _accessed_time when it is a number.</summary>
    private double? FullReader(byte[] pickle)
    {
        try
        {
            foreach (var (key, value) in _decoder.DecodeValue(pickle).Values)
            {
                if (key == BeakerKeys.AccessedTime)
                {
                    return value switch { double d => d, long l => l, _ => null };
                }
            }
        }
        catch (PayloadException)
        {
        }

        return null;
    }

    private static Dictionary<string, byte[]> Generate()
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(FixtureStore.Directory, "..", "leading_entries.py"));
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("leading_entries.py failed: " + error.Result);
        }

        return JsonSerializer.Deserialize<Dictionary<string, string>>(output)!.ToDictionary(p => p.Key, p => Convert.FromBase64String(p.Value));
    }
}
