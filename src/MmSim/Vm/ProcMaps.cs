using System.Text;

namespace MmSim.Vm;

/// <summary>fs/proc/task_mmu.c: /proc/PID/maps.</summary>
public static class ProcMaps
{
    /// <summary>seq_setwidth(m, 25 + sizeof(void *) * 6 - 1): names start after this column.</summary>
    private const int NameColumn = 25 + (8 * 6) - 1;

    /// <summary>/proc/PID/maps of a task, in show_map_vma()'s exact format; empty after exit.</summary>
    public static string Show(TaskStruct task) => task.Mm is { } mm ? Show(mm) : "";

    /// <summary>/proc/PID/maps of an address space.</summary>
    public static string Show(MmStruct mm)
    {
        var sb = new StringBuilder();
        foreach (var vma in mm.MmMt.Snapshot())
        {
            ShowMapVma(sb, vma);
        }

        return sb.ToString();
    }

    // show_map_vma()
    private static void ShowMapVma(StringBuilder sb, VmArea vma)
    {
        var lineStart = sb.Length;
        var flags = vma.VmFlags;
        ulong pgoff = 0;
        uint major = 0, minor = 0;
        ulong ino = 0;
        var file = vma.VmFile;
        if (file is not null)
        {
            major = file.Inode.DevMajor;
            minor = file.Inode.DevMinor;
            ino = file.Inode.Ino;
            pgoff = vma.VmPgoff << Kernel.K.PAGE_SHIFT;
        }

        // show_vma_header_prefix()
        sb.Append(Hex(vma.VmStart, 8)).Append('-').Append(Hex(vma.VmEnd, 8)).Append(' ')
            .Append((flags & VmFlags.VM_READ) != 0 ? 'r' : '-')
            .Append((flags & VmFlags.VM_WRITE) != 0 ? 'w' : '-')
            .Append((flags & VmFlags.VM_EXEC) != 0 ? 'x' : '-')
            .Append((flags & VmFlags.VM_MAYSHARE) != 0 ? 's' : 'p')
            .Append(' ').Append(Hex(pgoff, 8))
            .Append(' ').Append(Hex(major, 2)).Append(':').Append(Hex(minor, 2))
            .Append(' ').Append(ino).Append(' ');

        // get_vma_name(): the file's path, else vm_ops->name (heap, stack and anon names do not arise here).
        var name = file?.Path ?? (vma.VmOps is { HasName: true } ops ? ops.Name(vma) : null);
        if (name is not null)
        {
            // seq_pad(m, ' ')
            var col = sb.Length - lineStart;
            if (col < NameColumn)
            {
                sb.Append(' ', NameColumn - col);
            }

            sb.Append(' ').Append(name);
        }

        sb.Append('\n');
    }

    // seq_put_hex_ll(): lowercase hex, at least `width` digits.
    private static string Hex(ulong v, int width) => v.ToString("x").PadLeft(width, '0');
}
