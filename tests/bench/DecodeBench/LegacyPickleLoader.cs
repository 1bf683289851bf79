using System.Collections;
using Razorvine.Pickle;
using Razorvine.Pickle.Objects;

namespace BeakerHelpers.DecodeBench;

/// <summary>
/// BeakerHelpers 0.3.0's reader, kept here only to measure the new one against: unpickles with Razorvine.Pickle, which never imports or runs anything: unknown classes become a
/// <see cref="ClassDict"/>. Registers the constructors Razorvine lacks (docs/pickle.md):
/// copy_reg._reconstructor, protocol-2 frozenset, and tz-aware datetimes.
/// </summary>
internal static class LegacyPickleLoader
{
    static LegacyPickleLoader()
    {
        var reconstructor = new ReconstructorConstructor();
        Unpickler.registerConstructor("copy_reg", "_reconstructor", reconstructor);
        Unpickler.registerConstructor("copyreg", "_reconstructor", reconstructor);
        var frozenset = new FrozenSetConstructor();
        Unpickler.registerConstructor("__builtin__", "frozenset", frozenset);
        Unpickler.registerConstructor("builtins", "frozenset", frozenset);
        Unpickler.registerConstructor("datetime", "datetime", new DateTimeStateConstructor(isTime: false));
        Unpickler.registerConstructor("datetime", "time", new DateTimeStateConstructor(isTime: true));
        Unpickler.registerConstructor("datetime", "timedelta", new TimeDeltaConstructor());
        Unpickler.registerConstructor("datetime", "timezone", new TimeZoneConstructor());
        Unpickler.registerConstructor("pytz", "_UTC", new UtcConstructor());
    }

    /// <summary>Payloads up to this size share one unpickler per thread; a larger one gets its own, so that a huge memo is not kept.</summary>
    private const int ReusedUpTo = 64 * 1024;

    /// <summary>Room for a session dict's keys and values between MARK and SETITEMS without growing the stack.</summary>
    private const int StackCapacity = 64;

    /// <summary>
    /// One unpickler per thread, its memo cleared after each payload: a new one per payload spent a tenth of the
    /// decoding time growing its memo and stack again (Razorvine's Unpickler is not thread-safe, hence per thread).
    /// </summary>
    [ThreadStatic]
    private static Unpickler? t_unpickler;

    public static object? Load(byte[] data)
    {
        if (data.Length > ReusedUpTo)
        {
            using var own = new Unpickler();
            return own.loads(data, StackCapacity);
        }

        var unpickler = t_unpickler ??= new Unpickler();
        try
        {
            return unpickler.loads(data, StackCapacity);
        }
        finally
        {
            unpickler.close();
        }
    }

    /// <summary>A fixed-offset tzinfo (datetime.timezone, pytz.utc).</summary>
    internal sealed record PythonTimeZone(TimeSpan Offset);

    /// <summary>copy_reg._reconstructor(cls, base, state): Python 2 new-style objects at protocol 0/1.</summary>
    private sealed class ReconstructorConstructor : IObjectConstructor
    {
        public object construct(object[] args)
        {
            if (args.Length >= 1 && args[0] is ClassDictConstructor cls)
            {
                return new ClassDict(cls.module, cls.name);
            }

            throw new PickleException("copy_reg._reconstructor expects a class as its first argument");
        }
    }

    private sealed class FrozenSetConstructor : IObjectConstructor
    {
        public object construct(object[] args)
        {
            var set = new HashSet<object?>();
            if (args.Length == 1 && args[0] is IEnumerable items)
            {
                foreach (var item in items)
                {
                    set.Add(item);
                }
            }
            else if (args.Length > 0)
            {
                throw new PickleException("frozenset expects one iterable argument");
            }

            return set;
        }
    }

    /// <summary>
    /// datetime.datetime(state[, tzinfo]) and datetime.time(state[, tzinfo]) from their packed state
    /// (docs/pickle.md): Razorvine keeps only milliseconds, Python has microseconds. A fixed-offset tzinfo
    /// makes a datetime a DateTimeOffset.
    /// </summary>
    private sealed class DateTimeStateConstructor : IObjectConstructor
    {
        private readonly bool _isTime;
        private readonly DateTimeConstructor _fallback;

        public DateTimeStateConstructor(bool isTime)
        {
            _isTime = isTime;
            _fallback = new DateTimeConstructor(isTime ? DateTimeConstructor.PythonType.Time : DateTimeConstructor.PythonType.DateTime);
        }

        public object construct(object[] args)
        {
            var state = args.Length is 1 or 2 ? args[0] switch
            {
                byte[] bytes => bytes,
                string text when text.All(c => c <= '\u00ff') => System.Text.Encoding.Latin1.GetBytes(text),
                _ => null,
            } : null;
            if (state == null)
            {
                return _fallback.construct(args);
            }

            if (_isTime)
            {
                if (state.Length != 6)
                {
                    throw new PickleException("a datetime.time state has 6 bytes");
                }

                return new TimeSpan(0, state[0] & 0x7f, state[1], state[2]) + TimeSpan.FromTicks(Micro(state, 3) * 10);
            }

            if (state.Length != 10)
            {
                throw new PickleException("a datetime.datetime state has 10 bytes");
            }

            var local = new DateTime(state[0] * 256 + state[1], state[2] & 0x7f, state[3], state[4], state[5], state[6]).AddTicks(Micro(state, 7) * 10);
            if (args.Length == 2 && args[1] is PythonTimeZone zone && zone.Offset.Ticks % TimeSpan.TicksPerMinute == 0 && zone.Offset.Duration() <= TimeSpan.FromHours(14))
            {
                return new DateTimeOffset(local, zone.Offset);
            }

            // Naive, or an offset .NET cannot hold (seconds, over 14 h), or a tzinfo class we do not know: the wall time.
            return local;
        }

        private static long Micro(byte[] state, int at)
        {
            var micro = (state[at] << 16) | (state[at + 1] << 8) | state[at + 2];
            if (micro > 999_999)
            {
                throw new PickleException("microseconds out of range");
            }

            return micro;
        }
    }

    /// <summary>datetime.timedelta(days, seconds, microseconds), to the microsecond.</summary>
    private sealed class TimeDeltaConstructor : IObjectConstructor
    {
        public object construct(object[] args)
        {
            if (args.Length != 3 || !args.All(a => a is int or long))
            {
                throw new PickleException("datetime.timedelta expects (days, seconds, microseconds)");
            }

            var days = Convert.ToInt64(args[0], System.Globalization.CultureInfo.InvariantCulture);
            if (Math.Abs(days) > 10_000_000)
            {
                throw new PickleException("the timedelta is longer than .NET can hold (10 million days)");
            }

            return TimeSpan.FromDays(days) + TimeSpan.FromSeconds(Convert.ToInt64(args[1], System.Globalization.CultureInfo.InvariantCulture)) + TimeSpan.FromTicks(Convert.ToInt64(args[2], System.Globalization.CultureInfo.InvariantCulture) * 10);
        }
    }

    private sealed class TimeZoneConstructor : IObjectConstructor
    {
        public object construct(object[] args)
        {
            if (args.Length >= 1 && args[0] is TimeSpan offset && offset > TimeSpan.FromHours(-24) && offset < TimeSpan.FromHours(24))
            {
                return new PythonTimeZone(offset);
            }

            throw new PickleException("datetime.timezone expects an offset under 24 hours");
        }
    }

    private sealed class UtcConstructor : IObjectConstructor
    {
        public object construct(object[] args) => new PythonTimeZone(TimeSpan.Zero);
    }
}
