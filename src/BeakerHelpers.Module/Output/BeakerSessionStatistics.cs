using System.Collections.Specialized;
using BeakerHelpers.Core.Stores;
using BeakerHelpers.Core.Sessions;

namespace BeakerHelpers.Module.Output;

/// <summary>What Measure-BeakerSession reports for one store (docs/statistics.md).</summary>
public sealed class BeakerSessionStatistics
{
    public const string TypeName = "BeakerHelpers.SessionStatistics";

    internal BeakerSessionStatistics(StoreStatistics measured, TimeSpan? timeout, DateTime? cutoff, string timeZone, SessionContentTally? content)
    {
        Store = measured.Store;
        Timeout = timeout;
        Cutoff = cutoff;
        TimeZone = timeZone;
        TotalRows = measured.TotalRows;
        SessionRows = measured.SessionRows;
        OtherRows = measured.OtherRows;
        Active = measured.Active;
        Old = measured.Old;
        OldestAccess = measured.OldestAccess;
        NewestAccess = measured.NewestAccess;
        PayloadBytes = measured.PayloadBytes;
        MeanPayloadBytes = Math.Round(measured.MeanPayload, 1);
        LargestPayloadBytes = measured.LargestPayload;
        UnderOneHour = measured.UnderOneHour;
        OneHourToOneDay = measured.OneHourToOneDay;
        OneToSevenDays = measured.OneToSevenDays;
        SevenToThirtyDays = measured.SevenToThirtyDays;
        OlderThanThirtyDays = measured.OlderThanThirtyDays;
        LockFiles = measured.LockFiles;
        TempFiles = measured.TempFiles;
        KeysWithTtl = measured.KeysWithTtl;
        ServerBytes = measured.ServerBytes;
        ServerLimitBytes = measured.ServerLimitBytes;
        Evictions = measured.Evictions;
        Servers = measured.Servers?.ToArray();
        EmptySessions = content?.Empty;
        UnreadableSessions = content?.Unreadable;
        CommonKeys = content?.CommonKeys();
    }

    public string Store { get; }

    /// <summary>The timeout Active and Old are counted against; null when there is none (they are null then too).</summary>
    public TimeSpan? Timeout { get; }

    /// <summary>Rows accessed before this (the app server's wall-clock time) are old.</summary>
    public DateTime? Cutoff { get; }

    public string TimeZone { get; }

    public long TotalRows { get; }

    /// <summary>Rows whose payload starts as a Beaker session's (docs/statistics.md#sessions).</summary>
    public long SessionRows { get; }

    /// <summary>Rows of a Beaker cache sharing the table, or anything else that is not a session.</summary>
    public long OtherRows { get; }

    /// <summary>Rows accessed within the timeout.</summary>
    public long? Active { get; }

    /// <summary>Rows older than the timeout: what Remove-BeakerSession with the same timeout removes.</summary>
    public long? Old { get; }

    public DateTime? OldestAccess { get; }

    public DateTime? NewestAccess { get; }

    public long PayloadBytes { get; }

    public double MeanPayloadBytes { get; }

    public long LargestPayloadBytes { get; }

    public long UnderOneHour { get; }

    public long OneHourToOneDay { get; }

    public long OneToSevenDays { get; }

    public long SevenToThirtyDays { get; }

    public long OlderThanThirtyDays { get; }

    /// <summary>Folder stores: Beaker's lock files; null for tables.</summary>
    public long? LockFiles { get; }

    /// <summary>Folder stores: half-written '.cache.temp' files; null for tables.</summary>
    public long? TempFiles { get; }

    /// <summary>Redis: session keys with a TTL (they expire by themselves); null for other stores.</summary>
    public long? KeysWithTtl { get; }

    /// <summary>memcached: the bytes the servers hold (sessions and the app's cache); PayloadBytes is the sessions' share.</summary>
    public long? ServerBytes { get; }

    /// <summary>memcached: the memory the servers may use (limit_maxbytes, summed over the servers).</summary>
    public long? ServerLimitBytes { get; }

    /// <summary>memcached: items evicted to make room since the servers started (sessions never expire: they push the cache out).</summary>
    public long? Evictions { get; }

    /// <summary>memcached: each server's sessions and session bytes beside its bytes, limit and evictions; null for other stores.</summary>
    public MemcachedServerFigures[]? Servers { get; }

    /// <summary>-Detailed: sessions holding nothing but Beaker's own keys.</summary>
    public long? EmptySessions { get; }

    /// <summary>-Detailed: rows that could not be decoded (corrupt, or encrypted without the keys).</summary>
    public long? UnreadableSessions { get; }

    /// <summary>-Detailed: the session keys most sessions hold, with how many hold each, most common first.</summary>
    public OrderedDictionary? CommonKeys { get; }
}
