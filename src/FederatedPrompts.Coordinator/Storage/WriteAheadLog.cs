using System.Buffers.Binary;

namespace FederatedPrompts.Coordinator.Storage;

/// <summary>
/// Reads an SQLite write-ahead log the way SQLite recovers it (https://www.sqlite.org/fileformat2.html#walformat), to
/// tell what recovery would silently drop. SQLite replays frames from the start while each frame's salts match the
/// header's and its cumulative checksum holds, and stops at the first that fails; everything after is ignored. A torn
/// last frame after a crash is expected (its transaction never committed, so nothing was acknowledged). A commit frame
/// that matches the log's salts but lies beyond a failing frame is an acknowledged transaction recovery would lose.
/// </summary>
public static class WriteAheadLog
{
    const int HeaderBytes = 32, FrameHeaderBytes = 24;

    /// <summary>Commit frames of the log at <paramref name="path"/> that recovery would drop: beyond a damaged frame, or behind a damaged header.</summary>
    public static int LostCommits(string path)
    {
        byte[] log = File.ReadAllBytes(path);
        if (log.Length < HeaderBytes) return 0;
        uint magic = BinaryPrimitives.ReadUInt32BigEndian(log);
        if (magic is not (0x377f0682 or 0x377f0683)) return log.Length > HeaderBytes ? 1 : 0;   // not a log SQLite would read at all
        bool bigEndian = (magic & 1) == 1;
        int pageSize = (int)BinaryPrimitives.ReadUInt32BigEndian(log.AsSpan(8));
        uint salt1 = BinaryPrimitives.ReadUInt32BigEndian(log.AsSpan(16)), salt2 = BinaryPrimitives.ReadUInt32BigEndian(log.AsSpan(20));
        var (s0, s1) = Checksum(log.AsSpan(0, 24), bigEndian, 0, 0);
        bool headerValid = s0 == BinaryPrimitives.ReadUInt32BigEndian(log.AsSpan(24)) && s1 == BinaryPrimitives.ReadUInt32BigEndian(log.AsSpan(28));
        int frameBytes = FrameHeaderBytes + pageSize;
        if (pageSize is < 512 or > 65536) return 0;

        bool broken = !headerValid;
        int lost = 0;
        for (int at = HeaderBytes; at + frameBytes <= log.Length; at += frameBytes)
        {
            var frame = log.AsSpan(at, frameBytes);
            bool sameLog = BinaryPrimitives.ReadUInt32BigEndian(frame[8..]) == salt1 && BinaryPrimitives.ReadUInt32BigEndian(frame[12..]) == salt2;
            bool commit = BinaryPrimitives.ReadUInt32BigEndian(frame[4..]) != 0;
            if (!sameLog) continue;   // a frame left from before the log was last reset: never replayed, never lost
            if (broken)
            {
                if (commit) lost++;
                continue;
            }
            (s0, s1) = Checksum(frame[..8], bigEndian, s0, s1);
            (s0, s1) = Checksum(frame[FrameHeaderBytes..], bigEndian, s0, s1);
            broken = s0 != BinaryPrimitives.ReadUInt32BigEndian(frame[16..]) || s1 != BinaryPrimitives.ReadUInt32BigEndian(frame[20..]);
        }
        return lost;
    }

    /// <summary>SQLite's WAL checksum over <paramref name="data"/> (a multiple of 8 bytes), continuing from (s0, s1).</summary>
    static (uint, uint) Checksum(ReadOnlySpan<byte> data, bool bigEndian, uint s0, uint s1)
    {
        for (int i = 0; i < data.Length; i += 8)
        {
            uint x0 = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(data[i..]) : BinaryPrimitives.ReadUInt32LittleEndian(data[i..]);
            uint x1 = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(data[(i + 4)..]) : BinaryPrimitives.ReadUInt32LittleEndian(data[(i + 4)..]);
            unchecked
            {
                s0 += x0 + s1;
                s1 += x1 + s0;
            }
        }
        return (s0, s1);
    }
}
