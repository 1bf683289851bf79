using BeakerHelpers.Core.Payload;
using BeakerHelpers.Core.Stores;
using BeakerHelpers.Core.Threading;

namespace BeakerHelpers.Core.Sessions;

/// <summary>Streams a store's rows and decodes each one; a bad row becomes an error result, never an exception.</summary>
public sealed class SessionReader
{
    private readonly SessionPayloadDecoder _decoder;
    private readonly TimeZoneInfo _appZone;

    /// <param name="appZone">The app server's zone: a session's _creation_time becomes its created time there when the store keeps none.</param>
    public SessionReader(SessionPayloadDecoder decoder, TimeZoneInfo? appZone = null)
    {
        _decoder = decoder;
        _appZone = appZone ?? TimeZoneInfo.Local;
    }

    /// <summary>The decoder this reader decodes with.</summary>
    public SessionPayloadDecoder Decoder => _decoder;

    /// <summary>
    /// Every session the store holds (accessed since the cutoff, when there is one), decoded. The store is read on a
    /// thread of its own, a bounded amount ahead of the caller (<see cref="ReadAhead"/>); that thread also decodes
    /// while the caller is the slower of the two. Decoding is safe on any thread (the pickle reader is one per thread).
    /// </summary>
    public IEnumerable<SessionReadResult> Read(ISessionStore store, DateTime? accessedSince, CancellationToken cancellationToken)
    {
        foreach (var (_, result) in ReadWithRows(store, accessedSince, cancellationToken))
        {
            yield return result;
        }
    }

    /// <summary>
    /// <see cref="Read"/> with each session's row: its access time and payload as the store keeps them. With
    /// <paramref name="anyOrder"/>, in whatever order the store reads fastest (a pass that counts, not a listing).
    /// </summary>
    public IEnumerable<(StoredSession Row, SessionReadResult Result)> ReadWithRows(ISessionStore store, DateTime? accessedSince, CancellationToken cancellationToken, bool anyOrder = false)
    {
        var description = store.Description;
        var rows = ReadAhead.Of(
            token => (anyOrder ? store.ReadSessionsInAnyOrder(accessedSince, token) : store.ReadSessions(accessedSince, token)).Select(static row => (Row: row, Result: (SessionReadResult?)null)),
            static pending => pending.Row.Data.Length,
            cancellationToken,
            pending => (pending.Row, Decode(pending.Row, description)));
        foreach (var (row, result) in rows)
        {
            yield return (row, result ?? Decode(row, description));
        }
    }

    /// <summary>The sessions with these ids, looked up by key; ids the store does not hold give nothing.</summary>
    public IEnumerable<SessionReadResult> ReadIds(ISessionStore store, IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        foreach (var row in store.ReadIds(ids, cancellationToken))
        {
            yield return Decode(row, store.Description);
        }
    }

    public SessionReadResult Decode(StoredSession row, string storeDescription)
    {
        if (row.Problem != null)
        {
            return new SessionReadResult(row.Id, null, row.Problem);
        }

        DecodedPayload payload;
        try
        {
            payload = row.Payload switch
            {
                StoredPayload.SessionValue => _decoder.DecodeValue(row.Data),
                StoredPayload.SessionText => _decoder.DecodeValueText(row.Data),
                _ => _decoder.Decode(row.Data),
            };
        }
        catch (PayloadException ex)
        {
            return new SessionReadResult(row.Id, null, ex);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not OperationCanceledException)
        {
            // A decoder bug must cost one row, not the listing (the fuzz task calls the decoder directly and reports these).
            return new SessionReadResult(row.Id, null, new PayloadException($"the payload could not be decoded ({ex.GetType().Name}: {ex.Message})", inner: ex));
        }

        if (payload.Layout == PayloadLayout.NotSession)
        {
            return new SessionReadResult(row.Id, null, null);
        }

        var values = payload.Values as List<KeyValuePair<string, object?>> ?? payload.Values.ToList();
        return new SessionReadResult(row.Id, FromValues(row.Id, row.Accessed, storeDescription, payload.Layout, values, row.Created, row.ExpiresIn), null);
    }

    /// <summary>
    /// A session from its decoded values (a list of the caller's own: Beaker's two UNIX times in it become datetimes in
    /// place); its created time is <paramref name="created"/>, else its own _creation_time in the app server's zone.
    /// </summary>
    public SessionRecord FromValues(string id, DateTime accessed, string storeDescription, PayloadLayout layout, List<KeyValuePair<string, object?>> values,
        DateTime? created = null, TimeSpan? expiresIn = null)
    {
        for (var i = 0; i < values.Count; i++)
        {
            var key = values[i].Key;
            if (BeakerKeys.IsUnixTime(key))
            {
                values[i] = new KeyValuePair<string, object?>(key, FromUnixTime(values[i].Value));
            }
        }

        return new SessionRecord(id, accessed, created ?? CreationTime(values), storeDescription, layout, values) { ExpiresIn = expiresIn };
    }

    /// <summary>A UNIX time as the app server's wall-clock time (its zone), or null when the value is not a time.</summary>
    public DateTime? AppTime(object? unixTime) => FromUnixTime(unixTime) is DateTime local ? TimeZoneInfo.ConvertTime(local, _appZone) : null;

    /// <summary>The session's own _creation_time as the app server's wall-clock time, or null without one.</summary>
    private DateTime? CreationTime(IReadOnlyList<KeyValuePair<string, object?>> values)
    {
        foreach (var pair in values)
        {
            if (pair.Key == BeakerKeys.CreationTime && AppTime(pair.Value) is { } created)
            {
                return created;
            }
        }

        return null;
    }

    /// <summary>A UNIX time as local time, like Python's datetime.fromtimestamp; other values are left alone.</summary>
    public static object? FromUnixTime(object? value)
    {
        double? seconds = value switch
        {
            double d => d,
            long l => l,
            _ => null,
        };
        if (seconds is not { } s || double.IsNaN(s) || s < -62135596800 || s > 253402300799)
        {
            return value;
        }

        return DateTime.UnixEpoch.AddTicks((long)Math.Round(s * 1_000_000) * 10).ToLocalTime();
    }
}
