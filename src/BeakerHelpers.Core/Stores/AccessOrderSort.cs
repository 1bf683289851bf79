using System.Buffers.Binary;
using System.Security.Cryptography;

namespace BeakerHelpers.Core.Stores;

/// <summary>
/// Sessions in access order (oldest first; equal times in the source's order) from a source that gives them in any
/// order, in bounded memory (docs/listing-order.md): the source is read in runs of up to a number of bytes. One run is
/// sorted and given from memory. More are each sorted and written to one temporary file, encrypted (AES-GCM) with a
/// key that exists only in this process, and then merged. The file is removed when the listing ends or stops, and
/// what a killed process leaves of it cannot be read.
/// </summary>
internal static class AccessOrderSort
{
    /// <summary>Plaintext bytes per encrypted block of the file; a run being merged holds one block in memory.</summary>
    internal const int BlockBytes = 64 * 1024;

    /// <summary>The temporary files' names start with this (in the folder <see cref="Path.GetTempPath"/> gives, TMPDIR).</summary>
    internal const string FilePrefix = "beakerhelpers-order-";

    /// <param name="folder">Where the temporary file goes; by default the system's (TMPDIR).</param>
    public static IEnumerable<StoredSession> Sort(IEnumerable<StoredSession> source, long runBytes, CancellationToken cancellationToken, string? folder = null)
    {
        var run = new Run((int)Math.Min(runBytes, Array.MaxLength));
        SpillFile? spill = null;
        try
        {
            Fill(run, source, full => (spill ??= SpillFile.Create(folder ?? Path.GetTempPath(), runBytes)).WriteRun(full, cancellationToken));
            if (spill == null)
            {
                foreach (var session in run.Sessions())
                {
                    yield return session;
                }

                yield break;
            }

            if (run.Count > 0)
            {
                spill.WriteRun(run, cancellationToken);
            }

            // Its buffer is not needed while merging.
            run = null;
            foreach (var session in spill.Merge(cancellationToken))
            {
                yield return session;
            }
        }
        finally
        {
            spill?.Dispose();
        }
    }

    /// <summary>
    /// The sessions of several sources read at once, each on a thread of its own (the parts of one table, each on its
    /// own connection), in access order; equal times in the sources' order, then each source's own. Each source fills
    /// runs of its share of <paramref name="runBytes"/>, written to one temporary file, then merged. A source's failure
    /// stops the others (through the token each is given) and is thrown here.
    /// </summary>
    public static IEnumerable<StoredSession> Sort(IReadOnlyList<Func<CancellationToken, IEnumerable<StoredSession>>> sources, long runBytes, CancellationToken cancellationToken, string? folder = null)
    {
        var spill = SpillFile.Create(folder ?? Path.GetTempPath(), runBytes);
        try
        {
            var share = (int)Math.Min(runBytes / sources.Count, Array.MaxLength);
            Threading.AllAtOnce.Run(sources.Count, (s, token) =>
            {
                var run = new Run(share);
                Fill(run, sources[s](token), full => spill.WriteRun(full, token, s));
                if (run.Count > 0)
                {
                    spill.WriteRun(run, token, s);
                }

                return run.Count;
            }, cancellationToken);

            foreach (var session in spill.Merge(cancellationToken))
            {
                yield return session;
            }
        }
        finally
        {
            spill.Dispose();
        }
    }

    /// <summary>Adds the source's sessions to the run, handing each full run to <paramref name="writeFull"/> and starting it again.</summary>
    private static void Fill(Run run, IEnumerable<StoredSession> source, Action<Run> writeFull)
    {
        foreach (var session in source)
        {
            if (!run.TryAdd(session))
            {
                writeFull(run);
                run.Clear();
                run.Add(session);
            }
        }
    }

    /// <summary>
    /// The sessions of one run, each kept as a record of bytes (the temporary file's form) in one buffer rather than as
    /// objects: a run lives through many collections while it fills, and a run of objects made the runtime copy them
    /// from generation to generation (1 M sessions: 49 of 52 collections reached generation 1; docs/listing-order.md#runs).
    /// </summary>
    private sealed class Run(int capacity)
    {
        private byte[] _bytes = GC.AllocateUninitializedArray<byte>(Math.Min(capacity, 1024 * 1024));
        private readonly int _capacity = capacity;
        private readonly List<(long Ticks, int Offset)> _starts = new();
        private int _used;

        public int Count => _starts.Count;

        /// <summary>Bytes the run holds.</summary>
        public int Used => _used;

        public byte[] Bytes => _bytes;

        /// <summary>Adds the session, unless the run is full. A session larger than a whole run makes a run of its own.</summary>
        public bool TryAdd(StoredSession session)
        {
            var length = Record.Length(session);
            if (_used > 0 && (long)_used + length > _capacity)
            {
                return false;
            }

            if (_used + length > _bytes.Length)
            {
                Array.Resize(ref _bytes, (int)Math.Min(Array.MaxLength, Math.Max((long)_used + length, Math.Min((long)_bytes.Length * 2, _capacity))));
            }

            Record.Write(session, _bytes.AsSpan(_used, length));
            _starts.Add((session.Accessed.Ticks, _used));
            _used += length;
            return true;
        }

        public void Add(StoredSession session)
        {
            if (!TryAdd(session))
            {
                throw new InvalidOperationException("A session did not fit in an empty run.");
            }
        }

        public void Clear()
        {
            _starts.Clear();
            _used = 0;
        }

        /// <summary>Where each record starts, by access time; equal times in the order added (a record's start grows with it).</summary>
        public IEnumerable<int> SortedStarts()
        {
            var order = _starts.ToArray();
            Array.Sort(order);
            return order.Select(o => o.Offset);
        }

        public IEnumerable<StoredSession> Sessions() => SortedStarts().Select(start => Record.Read(_bytes.AsSpan(start)));
    }

    /// <summary>
    /// A session as the temporary file and a run keep it: accessed and created (DateTime.ToBinary, which keeps the
    /// kind), whether there is a created time, the payload's kind, the id's UTF-16 as it is (whatever the database gave
    /// comes back unchanged) with its length before it, and the payload with its length before it.
    /// </summary>
    private static class Record
    {
        public const int HeadBytes = 8 + 8 + 1 + 1 + 4;

        public static int Length(StoredSession session) => HeadBytes + (session.Id.Length * 2) + 4 + session.Data.Length;

        public static void Write(StoredSession session, Span<byte> to)
        {
            var id = System.Runtime.InteropServices.MemoryMarshal.AsBytes(session.Id.AsSpan());
            BinaryPrimitives.WriteInt64LittleEndian(to, session.Accessed.ToBinary());
            BinaryPrimitives.WriteInt64LittleEndian(to[8..], session.Created?.ToBinary() ?? 0);
            to[16] = session.Created == null ? (byte)0 : (byte)1;
            to[17] = (byte)session.Payload;
            BinaryPrimitives.WriteInt32LittleEndian(to[18..], id.Length);
            id.CopyTo(to[HeadBytes..]);
            BinaryPrimitives.WriteInt32LittleEndian(to[(HeadBytes + id.Length)..], session.Data.Length);
            session.Data.CopyTo(to[(HeadBytes + id.Length + 4)..]);
        }

        /// <summary>The length of the id that follows a record's head, and of the payload that follows the id.</summary>
        public static int IdBytes(ReadOnlySpan<byte> head) => BinaryPrimitives.ReadInt32LittleEndian(head[18..]);

        public static int DataBytes(ReadOnlySpan<byte> length) => BinaryPrimitives.ReadInt32LittleEndian(length);

        public static int Length(ReadOnlySpan<byte> record) => HeadBytes + IdBytes(record) + 4 + DataBytes(record[(HeadBytes + IdBytes(record))..]);

        public static StoredSession Make(ReadOnlySpan<byte> head, ReadOnlySpan<byte> id, byte[] data)
        {
            var accessed = DateTime.FromBinary(BinaryPrimitives.ReadInt64LittleEndian(head));
            DateTime? created = head[16] == 1 ? DateTime.FromBinary(BinaryPrimitives.ReadInt64LittleEndian(head[8..])) : null;
            return new StoredSession(new string(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, char>(id)), accessed, created, data) { Payload = (StoredPayload)head[17] };
        }

        public static StoredSession Read(ReadOnlySpan<byte> record)
        {
            var idBytes = IdBytes(record);
            var data = record.Slice(HeadBytes + idBytes + 4, DataBytes(record[(HeadBytes + idBytes)..])).ToArray();
            return Make(record, record.Slice(HeadBytes, idBytes), data);
        }
    }

    /// <summary>The sorted runs, encrypted block by block in one temporary file only this process can read.</summary>
    private sealed class SpillFile : IDisposable
    {
        private const int HeaderBytes = 8 + 4 + 16;

        private readonly FileStream _file;
        private readonly AesGcm _aes;
        private readonly List<(int Source, long Offset, long Length)> _runs = new();
        private readonly byte[] _plain = new byte[BlockBytes];
        private readonly byte[] _sealed = new byte[HeaderBytes + BlockBytes];
        private int _filled;
        private long _blocks;

        private SpillFile(FileStream file)
        {
            _file = file;
            _aes = new AesGcm(RandomNumberGenerator.GetBytes(32), 16);
        }

        public static SpillFile Create(string folder, long runBytes)
        {
            var free = new DriveInfo(Path.GetFullPath(folder)).AvailableFreeSpace;
            if (free < runBytes * 4)
            {
                throw SpaceLow(folder, free);
            }

            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                Options = FileOptions.DeleteOnClose,
                BufferSize = 0,
            };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            return new SpillFile(new FileStream(Path.Combine(folder, FilePrefix + Guid.NewGuid().ToString("N")), options));
        }

        /// <param name="source">Which source the run is of: runs merge in the order of their sources, then in the order written.</param>
        public void WriteRun(Run run, CancellationToken cancellationToken, int source = 0)
        {
            // Sources fill their runs at once, and write them one at a time.
            lock (_runs)
            {
                WriteRunLocked(run, source, cancellationToken);
            }
        }

        private void WriteRunLocked(Run run, int source, CancellationToken cancellationToken)
        {
            var free = new DriveInfo(Path.GetFullPath(Path.GetDirectoryName(_file.Name)!)).AvailableFreeSpace;
            if (free < (long)run.Used * 2)
            {
                throw SpaceLow(Path.GetDirectoryName(_file.Name)!, free);
            }

            var start = _file.Position;
            var written = 0;
            foreach (var at in run.SortedStarts())
            {
                if (++written % 4096 == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                var record = run.Bytes.AsSpan(at);
                Write(record[..Record.Length(record)]);
            }

            Seal();
            _runs.Add((source, start, _file.Position - start));
        }

        /// <summary>The runs merged: the oldest of their next sessions each time, equal times from the earlier run.</summary>
        public IEnumerable<StoredSession> Merge(CancellationToken cancellationToken)
        {
            _file.Flush();
            var readers = _runs.OrderBy(r => r.Source).ThenBy(r => r.Offset).Select(r => new RunReader(this, r.Offset, r.Length)).ToList();
            var next = new PriorityQueue<int, (long Ticks, int Run)>(readers.Count);
            var heads = new StoredSession?[readers.Count];
            for (var r = 0; r < readers.Count; r++)
            {
                if ((heads[r] = readers[r].Next()) is { } head)
                {
                    next.Enqueue(r, (head.Accessed.Ticks, r));
                }
            }

            var given = 0;
            while (next.TryDequeue(out var r, out _))
            {
                if (++given % 4096 == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                yield return heads[r]!;
                if ((heads[r] = readers[r].Next()) is { } head)
                {
                    next.Enqueue(r, (head.Accessed.Ticks, r));
                }
            }
        }

        public void Dispose()
        {
            _aes.Dispose();
            _file.Dispose();
        }

        private static BeakerException SpaceLow(string folder, long free) => new("TempSpaceLow", BeakerErrorKind.InvalidArgument,
            $"Listing a large table oldest first sorts it in parts kept in a temporary file in '{folder}', which has {free / (1024 * 1024)} MiB free. Free some space there, or set TMPDIR to a folder with room for the table's payloads.");

        private void Write(ReadOnlySpan<byte> bytes)
        {
            while (!bytes.IsEmpty)
            {
                var part = Math.Min(bytes.Length, BlockBytes - _filled);
                bytes[..part].CopyTo(_plain.AsSpan(_filled));
                _filled += part;
                bytes = bytes[part..];
                if (_filled == BlockBytes)
                {
                    Seal();
                }
            }
        }

        /// <summary>Encrypts what the block holds and appends it: its number (the nonce), its length, the tag, the ciphertext.</summary>
        private void Seal()
        {
            if (_filled == 0)
            {
                return;
            }

            var block = _sealed.AsSpan(0, HeaderBytes + _filled);
            BinaryPrimitives.WriteInt64LittleEndian(block, _blocks);
            BinaryPrimitives.WriteInt32LittleEndian(block[8..], _filled);
            _aes.Encrypt(Nonce(_blocks), _plain.AsSpan(0, _filled), block[HeaderBytes..], block.Slice(12, 16));
            _file.Write(block);
            _blocks++;
            _filled = 0;
        }

        private static byte[] Nonce(long block)
        {
            var nonce = new byte[12];
            BinaryPrimitives.WriteInt64LittleEndian(nonce, block);
            return nonce;
        }

        /// <summary>One run read back block by block, from its own offset in the file.</summary>
        private sealed class RunReader(SpillFile file, long offset, long length)
        {
            private readonly byte[] _plain = new byte[BlockBytes];
            private readonly byte[] _sealed = new byte[HeaderBytes + BlockBytes];
            private long _offset = offset;
            private readonly long _end = offset + length;
            private int _position;
            private int _filled;

            public StoredSession? Next()
            {
                if (_position == _filled && _offset == _end)
                {
                    return null;
                }

                Span<byte> head = stackalloc byte[Record.HeadBytes];
                Read(head);
                var id = new byte[Record.IdBytes(head)];
                Read(id);
                Span<byte> length = stackalloc byte[4];
                Read(length);
                var data = new byte[Record.DataBytes(length)];
                Read(data);
                return Record.Make(head, id, data);
            }

            private void Read(Span<byte> destination)
            {
                while (!destination.IsEmpty)
                {
                    if (_position == _filled)
                    {
                        Open();
                    }

                    var part = Math.Min(destination.Length, _filled - _position);
                    _plain.AsSpan(_position, part).CopyTo(destination);
                    _position += part;
                    destination = destination[part..];
                }
            }

            private void Open()
            {
                if (_offset >= _end)
                {
                    throw new InvalidDataException("A run of the listing's temporary file ended inside a session.");
                }

                var header = _sealed.AsSpan(0, HeaderBytes);
                ReadAt(header, _offset);
                var number = BinaryPrimitives.ReadInt64LittleEndian(header);
                var count = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
                if (count is <= 0 or > BlockBytes)
                {
                    throw new InvalidDataException("A block of the listing's temporary file has a length it cannot have.");
                }

                var cipher = _sealed.AsSpan(HeaderBytes, count);
                ReadAt(cipher, _offset + HeaderBytes);
                file._aes.Decrypt(Nonce(number), cipher, header.Slice(12, 16), _plain.AsSpan(0, count));
                _offset += HeaderBytes + count;
                _position = 0;
                _filled = count;
            }

            private void ReadAt(Span<byte> destination, long at)
            {
                while (!destination.IsEmpty)
                {
                    var read = RandomAccess.Read(file._file.SafeFileHandle, destination, at);
                    if (read == 0)
                    {
                        throw new InvalidDataException("The listing's temporary file ended early.");
                    }

                    destination = destination[read..];
                    at += read;
                }
            }
        }
    }
}
