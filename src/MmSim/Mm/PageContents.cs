using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>
/// The bytes of page frames, materialized only when written: a frame without a buffer reads as zeros. Buffers
/// are pooled and recycled when a frame is freed. Indexed in chunks of 4096 frames so that an untouched chunk
/// costs one null reference.
/// </summary>
public sealed class PageContents
{
    private const int ChunkShift = 12;
    private const int ChunkMask = (1 << ChunkShift) - 1;
    private const int PoolLimit = 4096;

    private readonly byte[]?[]?[] _chunks;
    private readonly Stack<byte[]> _pool = new();

    // One bit per frame, set while it holds a buffer: kept by Write and Clear, the only writers of a slot.
    private readonly ulong[] _present;

    public PageContents(long frames)
    {
        _chunks = new byte[]?[(frames + ChunkMask) >> ChunkShift][];
        _present = new ulong[(frames + 63) >> 6];
    }

    /// <summary>Frames that currently hold a materialized buffer.</summary>
    public long Materialized { get; private set; }

    public bool HasBuffer(long pfn)
    {
        var chunk = _chunks[pfn >> ChunkShift];
        return chunk is not null && chunk[pfn & ChunkMask] is not null;
    }

    /// <summary>The page's bytes for reading: the real buffer, or a shared zero page when never written.</summary>
    public ReadOnlySpan<byte> Read(long pfn)
    {
        var chunk = _chunks[pfn >> ChunkShift];
        var buf = chunk?[pfn & ChunkMask];
        return buf is null ? ZeroPage : buf;
    }

    /// <summary>The page's bytes for writing; materializes a zeroed buffer on first write.</summary>
    public Span<byte> Write(long pfn)
    {
        var chunk = _chunks[pfn >> ChunkShift] ??= new byte[]?[1 << ChunkShift];
        ref var slot = ref chunk[pfn & ChunkMask];
        if (slot is null)
        {
            slot = _pool.Count > 0 ? _pool.Pop() : new byte[K.PAGE_SIZE];
            Materialized++;
            _present[pfn >> 6] |= 1UL << (int)(pfn & 63);
        }

        return slot;
    }

    /// <summary>Drop the page's contents (it reads as zero again); the buffer returns to the pool.</summary>
    public void Clear(long pfn)
    {
        var chunk = _chunks[pfn >> ChunkShift];
        if (chunk is null)
        {
            return;
        }

        ref var slot = ref chunk[pfn & ChunkMask];
        if (slot is null)
        {
            return;
        }

        if (_pool.Count < PoolLimit)
        {
            Array.Clear(slot);
            _pool.Push(slot);
        }

        slot = null;
        Materialized--;
        _present[pfn >> 6] &= ~(1UL << (int)(pfn & 63));
    }

    /// <summary>Whether a frame whose bit is set in <paramref name="frames"/> (bit i of word i / 64: pfn i) holds a buffer.</summary>
    internal bool AnyBufferIn(ReadOnlySpan<ulong> frames)
    {
        var n = Math.Min(frames.Length, _present.Length);
        for (var w = 0; w < n; w++)
        {
            if ((frames[w] & _present[w]) != 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Drop the contents of the 2^order frames from <paramref name="pfn"/> (order &lt;= 12: at most two chunks).</summary>
    public void ClearBlock(long pfn, int order)
    {
        var n = 1L << order;
        if (_chunks[pfn >> ChunkShift] is null && _chunks[(pfn + n - 1) >> ChunkShift] is null)
        {
            return;
        }

        for (var i = 0L; i < n; i++)
        {
            Clear(pfn + i);
        }
    }

    /// <summary>copy_highpage(): copy one frame's bytes to another without materializing zero pages.</summary>
    public void Copy(long dstPfn, long srcPfn)
    {
        if (!HasBuffer(srcPfn))
        {
            Clear(dstPfn);
            return;
        }

        Read(srcPfn).CopyTo(Write(dstPfn));
    }

    private static readonly byte[] ZeroPage = new byte[K.PAGE_SIZE];

    /// <summary>Host bytes of the chunk index (not counting page buffers).</summary>
    public long IndexHostBytes => 8L * _chunks.Length + _chunks.Sum(c => c is null ? 0L : 8L * c.Length);
}
