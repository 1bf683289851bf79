using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace BeakerHelpers.Core.Stores.Memcached;

/// <summary>A value a server holds: its bytes as the client library stored them, its flags and its CAS.</summary>
internal readonly record struct MemcachedValue(byte[] Data, int Flags, ulong Cas);

/// <summary>How a metadump ended.</summary>
internal enum MetadumpResult
{
    Listed,
    Refused,
    Busy,
}

/// <summary>The <paramref name="index"/>th value of a batch, its bytes valid only during the call.</summary>
internal delegate void ValueRead(int index, ReadOnlySpan<byte> data, int flags, ulong cas);

/// <summary>A key a server listed, as it holds it; valid only during the call.</summary>
internal delegate void KeyListed(ReadOnlySpan<byte> key);

/// <summary>
/// One memcached server over its text protocol, for exactly the commands the store needs (docs/memcached.md#client):
/// version, stats, lru_crawler metadump, and values read and deleted-while-unchanged in pipelined batches, with the
/// meta commands (mg, md) on 1.6 and later and get/gets and cas before. Replies are parsed from one receive buffer;
/// every line read is bounded; a server that stops answering fails the read after the timeout.
/// </summary>
internal sealed class MemcachedConnection : IDisposable
{
    /// <summary>The first version with lru_crawler metadump.</summary>
    public static readonly Version Oldest = new(1, 4, 31);

    /// <summary>The first version with the meta commands.</summary>
    public static readonly Version MetaCommands = new(1, 6);

    /// <summary>A value larger than memcached's largest item (1 MiB by default, 1 GiB at most) is refused.</summary>
    private const int MaxValueBytes = 64 * 1024 * 1024;

    private const int MaxLineBytes = 64 * 1024;

    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly byte[] _in = new byte[256 * 1024];
    private readonly ArrayBufferWriter<byte> _out = new(16 * 1024);
    private int _start;
    private int _end;

    /// <summary>Set when a reply was left unread (a metadump stopped by Ctrl+C): what comes next belongs to it.</summary>
    private bool _abandoned;

    private readonly bool _metaAllowed;
    private readonly string _host;
    private readonly int _port;
    private readonly TimeSpan _timeout;

    private MemcachedConnection(TcpClient client, string host, int port, TimeSpan timeout, bool metaAllowed)
    {
        _client = client;
        _host = host;
        _port = port;
        _timeout = timeout;
        _metaAllowed = metaAllowed;
        _stream = client.GetStream();
        Where = $"{host}:{port}";
    }

    /// <summary>host:port, for messages.</summary>
    public string Where { get; }

    /// <summary>The server's version, once <see cref="Hello"/> read it.</summary>
    public Version? Version { get; private set; }

    /// <summary>Whether the server speaks the meta commands; before 1.6 the classic gets and cas are used.</summary>
    public bool Meta => _metaAllowed && Version >= MetaCommands;

    /// <param name="metaAllowed">False: the classic commands even on 1.6 and later (the tests of the path older servers take).</param>
    public static MemcachedConnection Open(string host, int port, TimeSpan timeout, CancellationToken cancellationToken, bool metaAllowed = true)
    {
        var client = new TcpClient { NoDelay = true, ReceiveTimeout = (int)timeout.TotalMilliseconds, SendTimeout = (int)timeout.TotalMilliseconds };
        try
        {
            using var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connecting.CancelAfter(timeout);
            client.ConnectAsync(host, port, connecting.Token).AsTask().GetAwaiter().GetResult();
            return new MemcachedConnection(client, host, port, timeout, metaAllowed);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>A second connection to the same server (a metadump streams on one while values are read on the other).</summary>
    public MemcachedConnection Another(CancellationToken cancellationToken)
    {
        var another = Open(_host, _port, _timeout, cancellationToken, _metaAllowed);
        another.Version = Version;
        return another;
    }

    /// <summary>The reply to 'version': 'VERSION x.y.z' (then <see cref="Version"/> is set), or whatever else the server said.</summary>
    public string Hello()
    {
        Command("version");
        var reply = ReadText();
        if (reply.StartsWith("VERSION ", StringComparison.Ordinal) && System.Version.TryParse(reply["VERSION ".Length..].Trim().Split('-')[0], out var version))
        {
            Version = version;
        }

        return reply;
    }

    /// <summary>A server's general statistics (stats), the numeric ones.</summary>
    public Dictionary<string, long> Stats()
    {
        Command("stats");
        var stats = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var line = ReadText(); line != "END"; line = ReadText())
        {
            var parts = line.Split(' ');
            if (parts.Length == 3 && parts[0] == "STAT" && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                stats[parts[1]] = value;
            }
            else if (!line.StartsWith("STAT ", StringComparison.Ordinal))
            {
                throw new IOException($"memcached {Where} answered stats with '{Shorten(line)}'");
            }
        }

        return stats;
    }

    /// <summary>
    /// Every key 'lru_crawler metadump &lt;which&gt;' lists, each given to <paramref name="key"/> as the server holds it
    /// (metadump's %-escapes undone). Refused: the server lacks the command or its crawler is off; Busy: its crawler is
    /// running already (for another client, or its own periodic crawl), and nothing was listed.
    /// </summary>
    public MetadumpResult Metadump(string which, KeyListed key, CancellationToken cancellationToken)
    {
        Command("lru_crawler metadump " + which);
        Span<byte> unescaped = stackalloc byte[SessionKey.MaxKeyBytes * 3];
        var lines = 0;
        while (true)
        {
            if (++lines % 4096 == 0 && cancellationToken.IsCancellationRequested)
            {
                // The rest of the dump is still coming: this connection can carry no other command.
                _abandoned = true;
                cancellationToken.ThrowIfCancellationRequested();
            }

            var line = ReadLine();
            if (line.StartsWith("key="u8))
            {
                var escaped = line[4..];
                var space = escaped.IndexOf((byte)' ');
                escaped = space < 0 ? escaped : escaped[..space];
                key(escaped.Contains((byte)'%') ? unescaped[..Unescape(escaped, unescaped)] : escaped);
            }
            else if (line.SequenceEqual("END"u8))
            {
                return MetadumpResult.Listed;
            }
            else if (line.StartsWith("BUSY"u8))
            {
                return MetadumpResult.Busy;
            }
            else if (line.StartsWith("NOTSTARTED"u8))
            {
                // "no items to crawl": nothing to list, and no END follows.
                return MetadumpResult.Listed;
            }
            else if (line.StartsWith("ERROR"u8) || line.StartsWith("CLIENT_ERROR"u8) || line.StartsWith("BADCLASS"u8))
            {
                return MetadumpResult.Refused;
            }
        }
    }

    /// <summary>
    /// The values of these keys, in their order (null for a key the server does not hold), in one pipelined round trip:
    /// 'mg &lt;key&gt; v f c u' (u: without bumping the item in the LRU, as a listing is no use of a session), or one
    /// 'gets &lt;key&gt;' per key before 1.6 (which does bump it).
    /// </summary>
    public List<MemcachedValue?> Get(IReadOnlyList<SessionKey> keys, CancellationToken cancellationToken)
    {
        RequestValues(keys);
        return ReadValues(keys.Count, cancellationToken);
    }

    /// <summary>Sends the requests of <see cref="Get"/> without reading the replies (so that several servers work at once); the number sent.</summary>
    public int RequestValues(IReadOnlyList<SessionKey> keys)
    {
        if (keys.Count == 0)
        {
            return 0;
        }

        foreach (var key in keys)
        {
            Append(Meta ? "mg "u8 : "gets "u8);
            AppendKey(key);
            Append(Meta ? " v f c u\r\n"u8 : "\r\n"u8);
        }

        Flush();
        return keys.Count;
    }

    /// <summary>
    /// The replies to the last <see cref="RequestValues"/> of <paramref name="count"/> keys, read whole: a page is
    /// short, and stopping inside it would leave its replies to be taken for the next command's.
    /// </summary>
    public List<MemcachedValue?> ReadValues(int count, CancellationToken cancellationToken)
    {
        var values = new List<MemcachedValue?>(count);
        for (var i = 0; i < count; i++)
        {
            values.Add(null);
        }

        ReadValues(count, (i, data, flags, cas) => values[i] = new MemcachedValue(data.ToArray(), flags, cas), cancellationToken);
        return values;
    }

    /// <summary>
    /// The same replies, each value given to <paramref name="read"/> as the receive buffer holds it, for a reader that
    /// keeps few of them (a listing's first pass); a key the server does not hold is skipped.
    /// </summary>
    public void ReadValues(int count, ValueRead read, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        for (var i = 0; i < count; i++)
        {
            if (Meta ? ReadMetaHeader(out var length, out var flags, out var cas) : ReadClassicHeader(out length, out flags, out cas))
            {
                read(i, ReadBlockInPlace(length), flags, cas);
                if (!Meta)
                {
                    ReadClassicEnd();
                }
            }
        }
    }

    /// <summary>
    /// Deletes each key only while its CAS is the one read, and counts those deleted: 'md &lt;key&gt; C&lt;cas&gt;', or
    /// before 1.6 'cas &lt;key&gt; 0 -1 0 &lt;cas&gt;' (an empty value that expires at once, stored only while the CAS is
    /// unchanged: the classic protocol's delete takes no CAS). A key saved meanwhile (new CAS) or gone is left.
    /// </summary>
    public long DeleteUnchanged(IReadOnlyList<(SessionKey Key, ulong Cas)> items)
    {
        if (items.Count == 0)
        {
            return 0;
        }

        foreach (var (key, cas) in items)
        {
            Append(Meta ? "md "u8 : "cas "u8);
            AppendKey(key);
            Append(Meta ? " C"u8 : " 0 -1 0 "u8);
            AppendNumber(cas);
            Append(Meta ? "\r\n"u8 : "\r\n\r\n"u8);
        }

        Flush();
        long removed = 0;
        foreach (var _ in items)
        {
            var reply = ReadLine();
            if (reply.SequenceEqual(Meta ? "HD"u8 : "STORED"u8))
            {
                removed++;
            }
            else if (!(Meta ? reply.SequenceEqual("EX"u8) || reply.SequenceEqual("NF"u8) : reply.SequenceEqual("EXISTS"u8) || reply.SequenceEqual("NOT_FOUND"u8)))
            {
                throw new IOException($"memcached {Where} answered a delete with '{Shorten(Encoding.ASCII.GetString(reply))}'");
            }
        }

        return removed;
    }

    public void Dispose() => _client.Dispose();

    private void EnsureInStep()
    {
        if (_abandoned)
        {
            throw new IOException($"memcached {Where}: a listing stopped in the middle of this connection's reply; open the store again");
        }
    }

    /// <summary>The header of the next value of a meta get: its length, flags and CAS; false when the server has no such key.</summary>
    private bool ReadMetaHeader(out int length, out int flags, out ulong cas)
    {
        length = -1;
        flags = 0;
        cas = 0;
        var header = ReadLine();
        if (header.SequenceEqual("EN"u8))
        {
            return false;
        }

        if (!header.StartsWith("VA "u8))
        {
            throw Unexpected("a meta get", header);
        }

        var fields = header[3..];
        for (var first = true; !fields.IsEmpty; first = false)
        {
            var space = fields.IndexOf((byte)' ');
            var field = space < 0 ? fields : fields[..space];
            fields = space < 0 ? default : fields[(space + 1)..];
            if (first)
            {
                if (!Utf8Parser.TryParse(field, out length, out var used) || used != field.Length)
                {
                    throw Unexpected("a meta get", header);
                }
            }
            else if (field.Length > 1 && field[0] == 'f')
            {
                _ = Utf8Parser.TryParse(field[1..], out flags, out _);
            }
            else if (field.Length > 1 && field[0] == 'c')
            {
                _ = Utf8Parser.TryParse(field[1..], out cas, out _);
            }
        }

        return true;
    }

    /// <summary>The header of the next value of a gets (VALUE &lt;key&gt; &lt;flags&gt; &lt;bytes&gt; &lt;cas&gt;); false for END alone.</summary>
    private bool ReadClassicHeader(out int length, out int flags, out ulong cas)
    {
        length = -1;
        flags = 0;
        cas = 0;
        var header = ReadLine();
        if (header.SequenceEqual("END"u8))
        {
            return false;
        }

        var parts = Encoding.ASCII.GetString(header).Split(' ');
        if (parts.Length != 5 || parts[0] != "VALUE"
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out flags)
            || !int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out length)
            || !ulong.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out cas))
        {
            throw Unexpected("gets", header);
        }

        return true;
    }

    /// <summary>After a gets' value, its END.</summary>
    private void ReadClassicEnd()
    {
        var end = ReadLine();
        if (!end.SequenceEqual("END"u8))
        {
            throw Unexpected("gets", end);
        }
    }

    /// <summary>
    /// A value block of <paramref name="length"/> bytes and its CRLF, as the receive buffer holds it (valid until the
    /// next read), or in an array of its own when it is larger than the buffer.
    /// </summary>
    private ReadOnlySpan<byte> ReadBlockInPlace(int length)
    {
        if (length < 0 || length > _in.Length - 2)
        {
            return ReadBlock(length);
        }

        while (_end - _start < length + 2)
        {
            Fill();
        }

        var block = _in.AsSpan(_start, length);
        _start += length + 2;
        return block;
    }

    private IOException Unexpected(string command, ReadOnlySpan<byte> reply) =>
        new($"memcached {Where} answered {command} with '{Shorten(Encoding.ASCII.GetString(reply))}'");

    private void Command(string line)
    {
        Append(Encoding.ASCII.GetBytes(line));
        Append("\r\n"u8);
        Flush();
    }

    private void Append(ReadOnlySpan<byte> bytes) => _out.Write(bytes);

    private void AppendKey(SessionKey key) => _out.Advance(key.WriteTo(_out.GetSpan(key.Length)));

    private void AppendNumber(ulong number)
    {
        var span = _out.GetSpan(20);
        Utf8Formatter.TryFormat(number, span, out var written);
        _out.Advance(written);
    }

    private void Flush()
    {
        EnsureInStep();
        _stream.Write(_out.WrittenSpan);
        _out.ResetWrittenCount();
    }

    /// <summary>The next line the server sent, without its line end; valid until the next read.</summary>
    private ReadOnlySpan<byte> ReadLine()
    {
        var searched = _start;
        while (true)
        {
            var newline = _in.AsSpan(searched, _end - searched).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var end = searched + newline;
                var line = _in.AsSpan(_start, end - _start);
                _start = end + 1;
                return line.EndsWith("\r"u8) ? line[..^1] : line;
            }

            if (_end - _start >= MaxLineBytes)
            {
                throw new IOException($"memcached {Where} sent a line longer than {MaxLineBytes} bytes");
            }

            searched = _end - _start;
            Fill();
            searched += _start;
        }
    }

    private string ReadText() => Encoding.ASCII.GetString(ReadLine());

    /// <summary>A value block of <paramref name="length"/> bytes and its CRLF.</summary>
    private byte[] ReadBlock(int length)
    {
        if (length is < 0 or > MaxValueBytes)
        {
            throw new IOException($"memcached {Where} announced a value of {length} bytes");
        }

        var data = GC.AllocateUninitializedArray<byte>(length);
        var buffered = Math.Min(length, _end - _start);
        _in.AsSpan(_start, buffered).CopyTo(data);
        _start += buffered;
        if (buffered < length)
        {
            _stream.ReadExactly(data.AsSpan(buffered));
        }

        while (_end - _start < 2)
        {
            Fill();
        }

        _start += 2;
        return data;
    }

    /// <summary>Moves what is unread to the buffer's start and reads what the server has sent since.</summary>
    private void Fill()
    {
        if (_start > 0)
        {
            _in.AsSpan(_start, _end - _start).CopyTo(_in);
            _end -= _start;
            _start = 0;
        }

        var read = _stream.Read(_in, _end, _in.Length - _end);
        if (read == 0)
        {
            throw new IOException($"memcached {Where} closed the connection");
        }

        _end += read;
    }

    /// <summary>Undoes metadump's %XX escapes; the key's bytes are written to <paramref name="destination"/>.</summary>
    private static int Unescape(ReadOnlySpan<byte> escaped, Span<byte> destination)
    {
        var written = 0;
        for (var i = 0; i < escaped.Length && written < destination.Length; i++)
        {
            if (escaped[i] == '%' && i + 2 < escaped.Length
                && byte.TryParse(escaped.Slice(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
            {
                destination[written++] = value;
                i += 2;
            }
            else
            {
                destination[written++] = escaped[i];
            }
        }

        return written;
    }

    private static string Shorten(string text) => text.Length > 80 ? text[..80] + "…" : text;
}
