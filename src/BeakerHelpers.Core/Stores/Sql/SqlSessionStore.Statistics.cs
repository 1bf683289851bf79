namespace BeakerHelpers.Core.Stores.Sql;

/// <summary>What <see cref="SqlSessionStore"/> tells Measure-BeakerSession (docs/statistics.md).</summary>
public sealed partial class SqlSessionStore
{
    public bool MeasuresInDatabase => true;

    /// <summary>
    /// Counts, sizes and ages the rows in one aggregate query, without transferring a payload (docs/statistics.md).
    /// A row counts as a session when its payload starts as Beaker's do: the key 'session' (or the flat layout's
    /// '_accessed_time') within its first 64 bytes, or an empty dict's few bytes.
    /// </summary>
    public StoreStatistics Measure(StatisticsBounds bounds, CancellationToken cancellationToken)
    {
        using var transaction = Guard("measuring the table", _dialect.BeginRead);
        using var command = Command(transaction, string.Empty);
        command.CommandTimeout = _dialect.ReadCommandTimeout;
        string Since(string name, DateTime at)
        {
            Add(command, name, _dialect.CutoffValue(at));
            return $"coalesce(sum(CASE WHEN accessed >= {name} THEN 1 ELSE 0 END), 0)";
        }

        var sessionLike = $"({_dialect.PayloadHeadHolds(SessionKeyHex)} OR {_dialect.PayloadHeadHolds(FlatLayoutKeyHex)} OR length(data) <= {EmptyDictBytes})";
        command.CommandText = $"SELECT count(*), coalesce(sum(CASE WHEN {sessionLike} THEN 1 ELSE 0 END), 0), " +
            (bounds.Cutoff is { } cutoff ? Since("@cutoff", cutoff) : "NULL") + ", min(accessed), max(accessed), " +
            "coalesce(sum(length(data)), 0), coalesce(max(length(data)), 0), " +
            $"{Since("@hour", bounds.HourAgo)}, {Since("@day", bounds.DayAgo)}, {Since("@week", bounds.WeekAgo)}, {Since("@month", bounds.MonthAgo)} " +
            $"FROM {_dialect.QualifiedTable}";
        using var registration = cancellationToken.Register(() => command.Cancel());
        using var reader = Guard("measuring the table", () => command.ExecuteReader());
        Guard("measuring the table", () => reader.Read());
        long Count(int ordinal) => Convert.ToInt64(reader.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture);
        DateTime? Time(int ordinal) => reader.IsDBNull(ordinal) ? null : _dialect.ReadTimestamp(reader, ordinal);
        return StoreStatistics.FromCumulative(Description, Count(0), Count(1), reader.IsDBNull(2) ? null : Count(2), Time(3), Time(4),
            Count(5), Count(6), Count(7), Count(8), Count(9), Count(10));
    }

    /// <summary>'session', the outer dict's one key (docs/statistics.md#sessions).</summary>
    private const string SessionKeyHex = "73657373696f6e";

    /// <summary>'_accessed_time', a top-level key of the flat layout of Beaker 1.1.3 and before.</summary>
    private const string FlatLayoutKeyHex = "5f61636365737365645f74696d65";

    /// <summary>An empty dict pickles to 5-6 bytes at any protocol (a deleted session of Beaker 1.10 and before).</summary>
    private const int EmptyDictBytes = 16;
}
