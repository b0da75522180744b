using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Bpf;

/// <summary>A global variable of a BPF object: its section offset and size.</summary>
public sealed record BpfGlobal(string Name, ulong Offset, int Size);

/// <summary>
/// An arena loaded the way libbpf (1.4–1.5, the 6.12 era) does it for programs with <c>__arena</c> globals: the
/// map created from the arena definition, mmapped at once, the <c>.arena.1</c> image copied in at offset 0, and the
/// globals exposed by name as user addresses.
/// </summary>
public sealed class LibbpfArena
{
    private readonly Dictionary<string, BpfGlobal> _globals;

    internal LibbpfArena(TaskStruct task, int fd, BpfArena map, ulong mmaped, IEnumerable<BpfGlobal> globals)
    {
        Task = task;
        Fd = fd;
        Map = map;
        Mmaped = mmaped;
        _globals = globals.ToDictionary(g => g.Name, StringComparer.Ordinal);
    }

    public TaskStruct Task { get; }

    /// <summary>The map fd.</summary>
    public int Fd { get; }

    public BpfArena Map { get; }

    /// <summary>map->mmaped: the user address of the arena (map_extra when given).</summary>
    public ulong Mmaped { get; }

    /// <summary>The user address of an <c>__arena</c> global (skel->arena->NAME).</summary>
    public ulong AddressOf(string name) => Mmaped + _globals[name].Offset;

    /// <summary>A user-space read of a global (through the mapping: it may fault).</summary>
    public UserAccessResult Read(string name) => Task.UserRead(AddressOf(name), _globals[name].Size);

    /// <summary>A user-space write of a global.</summary>
    public UserAccessResult Write(string name, ulong value) => Task.UserWrite(AddressOf(name), _globals[name].Size, value);
}

/// <summary>
/// An internal map of a skeleton (<c>.bss</c>, <c>.data</c>, <c>.rodata</c>): before load its contents live in an
/// anonymous shared mapping that user space edits; <see cref="Libbpf.LoadInternalMap"/> creates the array, copies
/// the contents in with an update and remaps the same address MAP_FIXED onto the map (bpf_object__load_skeleton).
/// </summary>
public sealed class LibbpfInternalMap
{
    internal LibbpfInternalMap(TaskStruct task, string name, ulong size, ulong mmaped, bool rodata)
    {
        Task = task;
        Name = name;
        Size = size;
        Mmaped = mmaped;
        Rodata = rodata;
    }

    public TaskStruct Task { get; }

    public string Name { get; }

    /// <summary>The section size (the array's value_size).</summary>
    public ulong Size { get; }

    /// <summary>map->mmaped: the same user address before and after load.</summary>
    public ulong Mmaped { get; }

    public bool Rodata { get; }

    /// <summary>The map fd once loaded, else -1.</summary>
    public int Fd { get; internal set; } = -1;
}

/// <summary>The libbpf-style loader (tools/lib/bpf/libbpf.c): what selftests' skeletons do before a program runs.</summary>
public static class Libbpf
{
    private const ulong RW = Mman.PROT_READ | Mman.PROT_WRITE;

    /// <summary>
    /// bpf_object__create_map() for an arena followed by libbpf's immediate mmap and the <c>.arena.1</c> copy:
    /// map_create(ARENA, max_entries, flags | BPF_F_MMAPABLE, map_extra); mmap(map_extra or NULL,
    /// max_entries pages, PROT_READ|PROT_WRITE, MAP_SHARED | (map_extra ? MAP_FIXED : 0), fd, 0); memcpy of the
    /// image to the start (user stores: pages fault in; with SEGV_ON_FAULT the copy faults, reported as -EFAULT).
    /// On failure everything done is undone and -errno returned.
    /// </summary>
    public static long LoadArena(TaskStruct task, uint maxEntries, ulong mapExtra, uint mapFlags, ReadOnlySpan<byte> image,
        IEnumerable<BpfGlobal> globals, out LibbpfArena? arena, string name = "arena")
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(globals);
        arena = null;
        var bpf = task.Machine.Bpf;
        var fd = bpf.MapCreate(task, new MapCreateAttr
        {
            MapType = BpfMapType.BPF_MAP_TYPE_ARENA,
            MaxEntries = maxEntries,
            MapFlags = mapFlags | BpfF.BPF_F_MMAPABLE,
            MapExtra = mapExtra,
            MapName = name,
        });
        if (fd < 0)
        {
            return fd;
        }

        var len = (ulong)maxEntries * K.PAGE_SIZE;
        var addr = task.Mmap(mapExtra, len, RW, Mman.MAP_SHARED | (mapExtra != 0 ? Mman.MAP_FIXED : 0), (int)fd);
        if (ErrnoExtensions.IsErr(addr))
        {
            task.Close((int)fd);
            return addr;
        }

        var map = (BpfArena)task.Files!.Lookup((int)fd)!.PrivateData!;
        if ((ulong)image.Length > len || CopyToArena(task, (ulong)addr, image) != 0)
        {
            task.Munmap((ulong)addr, len);
            task.Close((int)fd);
            return Errno.EFAULT.Neg();
        }

        arena = new LibbpfArena(task, (int)fd, map, (ulong)addr, globals);
        return fd;
    }

    // memcpy(map->mmaped, obj->arena_data, obj->arena_data_sz): user stores, 8 bytes at a time where possible.
    private static int CopyToArena(TaskStruct task, ulong addr, ReadOnlySpan<byte> image)
    {
        var i = 0;
        while (i < image.Length)
        {
            var size = image.Length - i >= 8 ? 8 : 1;
            var v = size == 8 ? BitConverter.ToUInt64(image.Slice(i, 8)) : image[i];
            if (!task.UserWrite(addr + (ulong)i, size, v).Ok)
            {
                return -(int)Errno.EFAULT;
            }

            i += size;
        }

        return 0;
    }

    /// <summary>
    /// bpf_object__init_internal_map(): the section's initial contents in an anonymous MAP_SHARED mapping of
    /// the rounded-up size (what skel->bss points to before load). -errno on failure.
    /// </summary>
    public static long OpenInternalMap(TaskStruct task, string name, ReadOnlySpan<byte> init, out LibbpfInternalMap? map)
    {
        ArgumentNullException.ThrowIfNull(task);
        map = null;
        var size = (ulong)Math.Max(init.Length, 1);
        var mmapSz = (size + K.PAGE_SIZE - 1) & K.PAGE_MASK; // bpf_map_mmap_sz() for a one-entry array
        var addr = task.Mmap(0, mmapSz, RW, Mman.MAP_SHARED | Mman.MAP_ANONYMOUS);
        if (ErrnoExtensions.IsErr(addr))
        {
            return addr;
        }

        if (CopyToArena(task, (ulong)addr, init) != 0)
        {
            task.Munmap((ulong)addr, mmapSz);
            return Errno.EFAULT.Neg();
        }

        map = new LibbpfInternalMap(task, name, size, (ulong)addr, name == ".rodata");
        return 0;
    }

    /// <summary>
    /// bpf_object__create_map() + bpf_object__populate_internal_map() + the skeleton's remap: a one-entry
    /// BPF_F_MMAPABLE array (.rodata also BPF_F_RDONLY_PROG, then frozen), updated from the anonymous mapping's
    /// current contents, and mmapped MAP_SHARED|MAP_FIXED over the same address (read-only for .rodata).
    /// The map fd, or -errno.
    /// </summary>
    public static long LoadInternalMap(LibbpfInternalMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var task = map.Task;
        var bpf = task.Machine.Bpf;
        var fd = bpf.MapCreate(task, new MapCreateAttr
        {
            MapType = BpfMapType.BPF_MAP_TYPE_ARRAY,
            KeySize = 4,
            ValueSize = (uint)map.Size,
            MaxEntries = 1,
            MapFlags = BpfF.BPF_F_MMAPABLE | (map.Rodata ? BpfF.BPF_F_RDONLY_PROG : 0),
            MapName = map.Name.Length > 15 ? map.Name[..15] : map.Name,
        });
        if (fd < 0)
        {
            return fd;
        }

        var value = new byte[map.Size];
        if (task.CopyFromUser(value, map.Mmaped) != 0)
        {
            task.Close((int)fd);
            return Errno.EFAULT.Neg();
        }

        Span<byte> zero = stackalloc byte[4];
        var err = bpf.MapUpdateElem(task, (int)fd, zero, value);
        if (err == 0 && map.Rodata)
        {
            err = bpf.MapFreeze(task, (int)fd);
        }

        if (err != 0)
        {
            task.Close((int)fd);
            return err;
        }

        var mmapSz = (map.Size + K.PAGE_SIZE - 1) & K.PAGE_MASK;
        var prot = map.Rodata ? Mman.PROT_READ : RW;
        var addr = task.Mmap(map.Mmaped, mmapSz, prot, Mman.MAP_SHARED | Mman.MAP_FIXED, (int)fd);
        if (ErrnoExtensions.IsErr(addr))
        {
            task.Close((int)fd);
            return addr;
        }

        map.Fd = (int)fd;
        return fd;
    }
}
