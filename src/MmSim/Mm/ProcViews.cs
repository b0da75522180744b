using System.Text;
using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>
/// /proc views of the memory subsystem in the kernel's own format. Subsystems contribute meminfo lines with
/// <see cref="Machine.AddMeminfo"/> when the machine is built, in the kernel's line order.
/// </summary>
public static class ProcViews
{
    /// <summary>/proc/buddyinfo (mm/vmstat.c frag_show_print): one zone, "Normal".</summary>
    public static string Buddyinfo(Machine m)
    {
        var sb = new StringBuilder();
        sb.Append("Node 0, zone ").Append("Normal".PadLeft(8));
        for (var o = 0; o < K.NR_PAGE_ORDERS; o++)
        {
            sb.Append(m.PageAlloc.FreeBlocks(o).ToString().PadLeft(7));
        }

        sb.Append('\n');
        return sb.ToString();
    }

    /// <summary>A /proc/meminfo subset (fs/proc/meminfo.c show_val_kb format).</summary>
    public static string Meminfo(Machine m)
    {
        var sb = new StringBuilder();
        var pa = m.PageAlloc;
        Line(sb, "MemTotal", Kb(pa.TotalPages));
        // MemFree is NR_FREE_PAGES, which does not count pages parked on the per-CPU lists (as in the kernel).
        Line(sb, "MemFree", Kb(pa.NrFreeBuddyPages));
        Line(sb, "MemAvailable", Kb(pa.NrFreeBuddyPages));
        foreach (var c in m.MeminfoLines())
        {
            Line(sb, c.Name, c.Kb);
        }

        return sb.ToString();
    }

    private static ulong Kb(long pages) => (ulong)pages << (K.PAGE_SHIFT - 10);

    // show_val_kb(): "Name:" padded to 16 columns, the value right-aligned in 8, then " kB".
    private static void Line(StringBuilder sb, string name, ulong kb) =>
        sb.Append((name + ":").PadRight(16)).Append(kb.ToString().PadLeft(8)).Append(" kB\n");
}
