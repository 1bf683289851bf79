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
        var run = new List<StoredSession>();
        long bytes = 0;
        SpillFile? spill = null;
        try
        {
            foreach (var session in source)
            {
                run.Add(session);
                bytes += Weight(session);
                if (bytes >= runBytes)
                {
                    spill ??= SpillFile.Create(folder ?? Path.GetTempPath(), runBytes);
                    spill.WriteRun(Sorted(run), bytes, cancellationToken);
                    run.Clear();
                    bytes = 0;
                }
            }

            if (spill == null)
            {
                foreach (var session in Sorted(run))
                {
                    yield return session;
                }

                yield break;
            }

            if (run.Count > 0)
            {
                spill.WriteRun(Sorted(run), bytes, cancellationToken);
                run.Clear();
            }

            run.TrimExcess();
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

    /// <summary>What a session takes in a run: its payload, its id, and the object around them.</summary>
    private static long Weight(StoredSession session) => session.Data.Length + (session.Id.Length * 2) + 96;

    /// <summary>A run's sessions by access time, equal times in the run's order.</summary>
    private static IEnumerable<StoredSession> Sorted(List<StoredSession> run)
    {
        var order = new (long Ticks, int Index)[run.Count];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = (run[i].Accessed.Ticks, i);
        }

        Array.Sort(order);
        return order.Select(o => run[o.Index]);
    }

    /// <summary>The sorted runs, encrypted block by block in one temporary file only this process can read.</summary>
    private sealed class SpillFile : IDisposable
    {
        private const int HeaderBytes = 8 + 4 + 16;

        private readonly FileStream _file;
        private readonly AesGcm _aes;
        private readonly List<(long Offset, long Length)> _runs = new();
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

        public void WriteRun(IEnumerable<StoredSession> sorted, long runBytes, CancellationToken cancellationToken)
        {
            var free = new DriveInfo(Path.GetFullPath(Path.GetDirectoryName(_file.Name)!)).AvailableFreeSpace;
            if (free < runBytes * 2)
            {
                throw SpaceLow(Path.GetDirectoryName(_file.Name)!, free);
            }

            var start = _file.Position;
            Span<byte> head = stackalloc byte[8 + 8 + 1 + 1 + 4];
            Span<byte> length = stackalloc byte[4];
            var written = 0;
            foreach (var session in sorted)
            {
                if (++written % 4096 == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                // The id's UTF-16 as it is: whatever the database gave comes back unchanged.
                var id = System.Runtime.InteropServices.MemoryMarshal.AsBytes(session.Id.AsSpan());
                BinaryPrimitives.WriteInt64LittleEndian(head, session.Accessed.ToBinary());
                BinaryPrimitives.WriteInt64LittleEndian(head[8..], session.Created?.ToBinary() ?? 0);
                head[16] = session.Created == null ? (byte)0 : (byte)1;
                head[17] = (byte)session.Payload;
                BinaryPrimitives.WriteInt32LittleEndian(head[18..], id.Length);
                Write(head);
                Write(id);
                BinaryPrimitives.WriteInt32LittleEndian(length, session.Data.Length);
                Write(length);
                Write(session.Data);
            }

            Seal();
            _runs.Add((start, _file.Position - start));
        }

        /// <summary>The runs merged: the oldest of their next sessions each time, equal times from the earlier run.</summary>
        public IEnumerable<StoredSession> Merge(CancellationToken cancellationToken)
        {
            _file.Flush();
            var readers = _runs.Select(r => new RunReader(this, r.Offset, r.Length)).ToList();
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

                Span<byte> head = stackalloc byte[8 + 8 + 1 + 1 + 4];
                Read(head);
                var accessed = DateTime.FromBinary(BinaryPrimitives.ReadInt64LittleEndian(head));
                DateTime? created = head[16] == 1 ? DateTime.FromBinary(BinaryPrimitives.ReadInt64LittleEndian(head[8..])) : null;
                var payload = (StoredPayload)head[17];
                var id = new byte[BinaryPrimitives.ReadInt32LittleEndian(head[18..])];
                Read(id);
                Span<byte> length = stackalloc byte[4];
                Read(length);
                var data = new byte[BinaryPrimitives.ReadInt32LittleEndian(length)];
                Read(data);
                return new StoredSession(new string(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, char>(id)), accessed, created, data) { Payload = payload };
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
