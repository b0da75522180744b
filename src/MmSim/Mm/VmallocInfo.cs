using System.Text;
using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>/proc/vmallocinfo and the vmalloc lines of /proc/meminfo.</summary>
public sealed partial class VmallocAllocator
{
    /// <summary>
    /// /proc/vmallocinfo (vmalloc_info_show()): one line per busy area in address order,
    /// <c>0x%pK-0x%pK %7ld caller pages=N vmalloc user sparse ... N0=N</c>, then one "unpurged vm_area" line per
    /// lazily freed range. Addresses are printed unhashed (as root with kptr_restrict=1 sees them); the caller
    /// is the string passed at allocation.
    /// </summary>
    public string VmallocInfo()
    {
        var sb = new StringBuilder();
        foreach (var va in _tree.InOrder)
        {
            if (va.Lazy || va.Vm is not { } v)
            {
                continue;
            }

            sb.Append($"0x{v.Addr:x16}-0x{v.Addr + v.Size:x16} {((long)v.Size).ToString().PadLeft(7)}");
            if (v.Caller.Length > 0)
            {
                sb.Append(' ').Append(v.Caller);
            }

            if (v.NrPages != 0)
            {
                sb.Append(" pages=").Append(v.NrPages);
            }

            if ((v.Flags & VmStructFlags.VM_IOREMAP) != 0)
            {
                sb.Append(" ioremap");
            }

            if ((v.Flags & VmStructFlags.VM_SPARSE) != 0)
            {
                sb.Append(" sparse");
            }

            if ((v.Flags & VmStructFlags.VM_ALLOC) != 0)
            {
                sb.Append(" vmalloc");
            }

            if ((v.Flags & VmStructFlags.VM_MAP) != 0)
            {
                sb.Append(" vmap");
            }

            if ((v.Flags & VmStructFlags.VM_USERMAP) != 0)
            {
                sb.Append(" user");
            }

            if ((v.Flags & VmStructFlags.VM_DMA_COHERENT) != 0)
            {
                sb.Append(" dma-coherent");
            }

            if (IsVmallocAddr(v.PagesArray))
            {
                sb.Append(" vpages");
            }

            // show_numa_info(): CONFIG_NUMA, one node.
            if (v.NrPages != 0 && (v.Flags & VmStructFlags.VM_UNINITIALIZED) == 0)
            {
                sb.Append(" N0=").Append(v.NrPages);
            }

            sb.Append('\n');
        }

        // show_purge_info()
        foreach (var va in _tree.InOrder)
        {
            if (va.Lazy)
            {
                sb.Append($"0x{va.VaStart:x16}-0x{va.VaEnd:x16} {((long)va.Size).ToString().PadLeft(7)} unpurged vm_area\n");
            }
        }

        return sb.ToString();
    }

    /// <summary>Register VmallocTotal, VmallocUsed and VmallocChunk (fs/proc/meminfo.c) on the machine.</summary>
    public void AddMeminfo(Machine machine)
    {
        machine.AddMeminfo("VmallocTotal", () => VmallocConstants.VMALLOC_TOTAL >> 10);
        machine.AddMeminfo("VmallocUsed", () => (ulong)NrVmallocPages << (K.PAGE_SHIFT - 10));
        machine.AddMeminfo("VmallocChunk", () => 0);
    }
}
