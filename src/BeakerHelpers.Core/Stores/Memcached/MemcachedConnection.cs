using System.Net.Sockets;
using System.Text;

namespace BeakerHelpers.Core.Stores.Memcached;

/// <summary>
/// One memcached server over its text protocol, for exactly the commands the store needs (docs/memcached.md):
/// version, stats, lru_crawler metadump all, and the meta commands mg (value, flags, CAS) and md (delete while the CAS
/// is unchanged), pipelined. Every line read is bounded; a server that stops answering fails the read after the timeout.
/// </summary>
internal sealed class MemcachedConnection : IDisposable
{
    /// <summary>A value larger than memcached's largest item (1 MiB by default, 1 GiB at most) is refused.</summary>
    private const int MaxValueBytes = 64 * 1024 * 1024;

    private const int MaxLineBytes = 64 * 1024;

    private readonly TcpClient _client;
    private readonly BufferedStream _stream;
    private readonly byte[] _line = new byte[MaxLineBytes];

    private MemcachedConnection(TcpClient client, string where)
    {
        _client = client;
        _stream = new BufferedStream(client.GetStream(), 64 * 1024);
        Where = where;
    }

    /// <summary>host:port, for messages.</summary>
    public string Where { get; }

    public static MemcachedConnection Open(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true, ReceiveTimeout = (int)timeout.TotalMilliseconds, SendTimeout = (int)timeout.TotalMilliseconds };
        try
        {
            using var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connecting.CancelAfter(timeout);
            client.ConnectAsync(host, port, connecting.Token).AsTask().GetAwaiter().GetResult();
            return new MemcachedConnection(client, $"{host}:{port}");
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Sends one or more command lines at once (a pipeline).</summary>
    public void Send(IEnumerable<string> lines)
    {
        var text = new StringBuilder();
        foreach (var line in lines)
        {
            text.Append(line).Append("\r\n");
        }

        var bytes = Encoding.ASCII.GetBytes(text.ToString());
        _stream.Write(bytes);
        _stream.Flush();
    }

    public void Send(string line) => Send(new[] { line });

    /// <summary>The next line the server sent, without its CRLF.</summary>
    public string ReadLine()
    {
        var length = 0;
        while (true)
        {
            var b = _stream.ReadByte();
            if (b < 0)
            {
                throw new IOException($"memcached {Where} closed the connection");
            }

            if (b == '\n')
            {
                if (length > 0 && _line[length - 1] == '\r')
                {
                    length--;
                }

                return Encoding.ASCII.GetString(_line, 0, length);
            }

            if (length == MaxLineBytes)
            {
                throw new IOException($"memcached {Where} sent a line longer than {MaxLineBytes} bytes");
            }

            _line[length++] = (byte)b;
        }
    }

    /// <summary>A value block of <paramref name="length"/> bytes and its CRLF.</summary>
    public byte[] ReadBlock(int length)
    {
        if (length < 0 || length > MaxValueBytes)
        {
            throw new IOException($"memcached {Where} announced a value of {length} bytes");
        }

        var data = new byte[length];
        _stream.ReadExactly(data);
        Span<byte> end = stackalloc byte[2];
        _stream.ReadExactly(end);
        return data;
    }

    public void Dispose() => _client.Dispose();
}
