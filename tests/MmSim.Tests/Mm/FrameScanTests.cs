using MmSim.Mm;
using Xunit;

namespace MmSim.Tests.Mm;

/// <summary>The frame scans of the invariants' quick paths agree with the frames' fields, tails included.</summary>
public class FrameScanTests
{
    [Fact]
    public void TheRuntimeLaysFramesOutAsTheScansRead() => Assert.True(FrameScan.Usable);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(64)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(71)]
    [InlineData(257)]
    [InlineData(2048)]
    public void ScansAgreeWithTheFields(int n)
    {
        var r = new Random(n);
        var frames = new PageFrame[n];
        for (var rep = 0; rep < 20; rep++)
        {
            Array.Clear(frames);
            var density = r.Next(1, 4);
            for (var k = 0; k < density && n > 0; k++)
            {
                ref var f = ref frames[r.Next(n)];
                f.Refcount = r.Next(-3, 5);
                f.Order = (byte)r.Next(0, 11);
                f.Mapcount = (ushort)r.Next(0, 3);
                f.Flags = (PageFlags)r.Next(0, 256);
            }

            ulong or = 0;
            long mapped = 0, vmalloc = 0;
            foreach (var f in frames)
            {
                var word = ((ulong)(uint)f.Refcount & FrameScan.RefcountMask) | ((ulong)f.Order << 28) |
                    ((ulong)f.Mapcount << 32) | ((ulong)f.Flags << FrameScan.FlagsShift);
                or |= word;
                mapped += f.Mapcount != 0 ? 1 : 0;
                vmalloc += f.Has(PageFlags.Vmalloc) ? 1 : 0;
            }

            Assert.Equal(or, FrameScan.Or(frames));
            var none = new ulong[(n + 63) / 64];
            Assert.Equal(mapped == 0, FrameScan.NoneOutside(frames, none, FrameScan.MapcountMask));
            Assert.Equal(vmalloc == 0, FrameScan.NoneOutside(frames, none, (ulong)PageFlags.Vmalloc << FrameScan.FlagsShift));
            Assert.Equal(frames.Any(f => f.Refcount < 0), (or & FrameScan.RefcountSign) != 0);

            // NoneOutside: the mapped frames marked (sometimes one fewer, sometimes a whole chunk more).
            var marks = new ulong[(n + 63) / 64];
            for (var i = 0; i < n; i++)
            {
                if (frames[i].Mapcount != 0 || (r.Next(8) == 0 && i < 64))
                {
                    marks[i >> 6] |= 1UL << (i & 63);
                }
            }

            if (mapped > 0 && r.Next(2) == 0)
            {
                var i = Array.FindIndex(frames, f => f.Mapcount != 0);
                marks[i >> 6] &= ~(1UL << (i & 63));
            }

            var expected = Enumerable.Range(0, n).All(i => (marks[i >> 6] & (1UL << (i & 63))) != 0 || frames[i].Mapcount == 0);
            Assert.Equal(expected, FrameScan.NoneOutside(frames, marks, FrameScan.MapcountMask));
        }
    }

    // Or reads every frame of every position in its vector, group and tail parts: each frame alone, all fields set.
    [Theory]
    [InlineData(39)]
    [InlineData(100)]
    public void OrSeesEachFrameAlone(int n)
    {
        var frames = new PageFrame[n];
        for (var i = 0; i < n; i++)
        {
            Array.Clear(frames);
            frames[i] = new PageFrame { Refcount = -1, Order = 10, Mapcount = 0xFFFF, Flags = (PageFlags)0xFF };
            Assert.Equal(FrameScan.Word(frames, i), FrameScan.Or(frames));
            Assert.Equal(0xFF_FFFF_A_FFFFFFFUL, FrameScan.Or(frames));
        }
    }

    // OrByMarks splits the frames by their marks, in runs of any length (marks shorter than the frames included).
    [Theory]
    [InlineData(5)]
    [InlineData(64)]
    [InlineData(200)]
    [InlineData(2048)]
    public void OrByMarksSplitsTheFramesByMark(int n)
    {
        var r = new Random(n);
        var frames = new PageFrame[n];
        for (var rep = 0; rep < 50; rep++)
        {
            Array.Clear(frames);
            for (var k = 0; k < 4; k++)
            {
                frames[r.Next(n)].Flags = (PageFlags)(1 << r.Next(0, 8));
            }

            var marks = new ulong[Math.Max(0, ((n + 63) / 64) - r.Next(0, 2))];
            for (var runs = r.Next(0, 6); runs > 0 && marks.Length > 0; runs--)
            {
                var from = r.Next(marks.Length * 64);
                var len = r.Next(1, rep % 2 == 0 ? 9 : 300);
                for (var i = from; i < Math.Min(from + len, marks.Length * 64); i++)
                {
                    marks[i >> 6] |= 1UL << (i & 63);
                }
            }

            ulong inMarked = 0, outside = 0;
            for (var i = 0; i < n; i++)
            {
                var isMarked = (i >> 6) < marks.Length && (marks[i >> 6] & (1UL << (i & 63))) != 0;
                if (isMarked)
                {
                    inMarked |= FrameScan.Word(frames, i);
                }
                else
                {
                    outside |= FrameScan.Word(frames, i);
                }
            }

            FrameScan.OrByMarks(frames, marks, out var m, out var u);
            Assert.Equal(inMarked, m);
            Assert.Equal(outside, u);
        }
    }
}
