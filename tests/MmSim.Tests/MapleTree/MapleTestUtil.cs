using MmSim.MapleTree;
using MmSim.Model;

namespace MmSim.Tests.MapleTree;

/// <summary>Helpers shared by the maple tree tests.</summary>
internal static class MapleTestUtil
{
    /// <summary>Compare the tree's ranges with the model's; null when they agree, else a description.</summary>
    public static string? Diff(MapleTree<ulong> tree, IntervalMapModel<ulong> model)
    {
        var got = tree.MtDumpRanges();
        var want = model.Ranges;
        if (got.Count != want.Count)
        {
            return $"tree has {got.Count} ranges, model {want.Count}: tree {Show(got)} model {model}";
        }

        for (var i = 0; i < got.Count; i++)
        {
            var (f, l, e) = got[i];
            if (f != want[i].First || l != want[i].Last || e != want[i].Entry)
            {
                return $"range {i}: tree [{f:x}-{l:x}]={e} model [{want[i].First:x}-{want[i].Last:x}]={want[i].Entry}";
            }
        }

        return tree.Count != model.Count ? $"Count {tree.Count} != {model.Count}" : null;
    }

    public static string Show(List<MapleRange<ulong>> ranges) =>
        ranges.Count > 8 ? $"{ranges.Count} ranges" : string.Join(", ", ranges.Select(r => $"[{r.First:x}-{r.Last:x}]={r.Entry}"));

    /// <summary>Throw with the violations if mt_validate finds any.</summary>
    public static void AssertValid(MapleTree<ulong> tree, string context = "")
    {
        var v = tree.MtValidate();
        if (v.Count > 0)
        {
            throw new Xunit.Sdk.XunitException($"mt_validate {context}: {string.Join("; ", v.Take(5))}\n{tree.MtDump()}");
        }
    }
}
