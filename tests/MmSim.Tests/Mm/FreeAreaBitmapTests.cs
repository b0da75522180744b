using MmSim.Mm;
using Xunit;

namespace MmSim.Tests.Mm;

/// <summary>
/// The three-level free-area bitmap against a sorted-set model, at sizes where every level has several words
/// (the page allocator's tests never go past 4,096 bottom words, so the top level was never exercised).
/// </summary>
public class FreeAreaBitmapTests
{
    // 64^3 blocks per top-level word: three top words and a partial fourth.
    private const long Blocks = (3L * 64 * 64 * 64) + 4_100;

    [Fact]
    public void LowestSetIndexMatchesASortedSetAcrossAllLevels()
    {
        var bitmap = new FreeAreaBitmap(Blocks);
        var model = new SortedSet<long>();
        var rng = new Random(2026);
        for (var step = 0; step < 40_000; step++)
        {
            // Clustered near the top-level word boundaries half the time, so words empty and refill there.
            var i = rng.Next(2) == 0
                ? Math.Clamp((rng.Next(1, 4) * 64L * 64 * 64) + rng.Next(-200, 200), 0, Blocks - 1)
                : rng.NextInt64(Blocks);
            if (model.Remove(i))
            {
                bitmap.Clear(i);
            }
            else
            {
                model.Add(i);
                bitmap.Set(i);
            }

            Assert.Equal(model.Count, bitmap.Count);
            Assert.Equal(model.Count == 0 ? -1 : model.Min, bitmap.FindFirst());
            Assert.True(bitmap.Test(i) == model.Contains(i));
        }

        // Drain from the lowest: FindFirst must walk every level's next word as the lower ones empty.
        while (model.Count > 0)
        {
            var first = bitmap.FindFirst();
            Assert.Equal(model.Min, first);
            model.Remove(first);
            bitmap.Clear(first);
        }

        Assert.Equal(-1, bitmap.FindFirst());
        Assert.Equal(0, bitmap.Count);
        Assert.Empty(bitmap.SetBits());
    }

    [Fact]
    public void OnlyTheHighestBlockSet()
    {
        var bitmap = new FreeAreaBitmap(Blocks);
        bitmap.Set(Blocks - 1);
        Assert.Equal(Blocks - 1, bitmap.FindFirst());
        Assert.Equal([Blocks - 1], bitmap.SetBits());
        bitmap.Set(0);
        bitmap.Clear(Blocks - 1);
        Assert.Equal(0, bitmap.FindFirst());
    }

    [Fact]
    public void HostBytesCountsEveryLevel()
    {
        // 12,353 bottom words, 194 middle words, 4 top words.
        var l0 = (Blocks + 63) / 64;
        var l1 = (l0 + 63) / 64;
        var l2 = (l1 + 63) / 64;
        Assert.Equal(4, l2);
        Assert.Equal(8 * (l0 + l1 + l2), new FreeAreaBitmap(Blocks).HostBytes);
    }
}
