using System.Buffers.Binary;
using MmSim.Bpf;
using MmSim.Kernel;
using MmSim.Mm;
using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Bpf;

/// <summary>
/// array_map_alloc()'s layout for the arrays that carry a pointer per entry (per-CPU pptrs, fd arrays), the caller
/// vmallocinfo names, and array_map_get_next_key()'s edges: the behaviour Stryker found untested in ArrayMap.cs
/// (docs/verification.md, "Mutation testing").
/// </summary>
public class ArrayMapLayoutTests
{
    private readonly Machine _m = new(new MachineConfig { RamBytes = 64UL << 20 });
    private readonly TaskStruct _t;

    public ArrayMapLayoutTests() => _t = _m.Tasks.Spawn("p");

    private static MapCreateAttr Attr(BpfMapType type, uint entries, uint value = 8, uint flags = 0) => new()
    {
        MapType = type,
        KeySize = 4,
        ValueSize = value,
        MaxEntries = entries,
        MapFlags = flags,
    };

    private static byte[] Key(uint k) => BpfSyscallTests.Key(k);

    private ArrayMap MapOf(long fd) => (ArrayMap)_t.Files!.Lookup((int)fd)!.PrivateData!;

    [Fact]
    public void PercpuArrayHeaderHoldsOnePointerPerEntry()
    {
        // array_map_alloc(): array_size += (u64)max_entries * sizeof(void *) for BPF_MAP_TYPE_PERCPU_ARRAY; the
        // values are separate per-CPU allocations (bpf_array_alloc_percpu).
        var fd = _m.Bpf.MapCreate(_t, Attr(BpfMapType.BPF_MAP_TYPE_PERCPU_ARRAY, entries: 100, value: 12));
        Assert.True(fd >= 0);
        var a = MapOf(fd);
        Assert.Equal(16u, a.ElemSize);
        Assert.Equal(ArrayMap.BpfArrayHeaderSize + (100UL * 8), a.AllocSize);
        // array_map_mem_usage(): header + pptrs + elem_size * entries * num_possible_cpus()
        Assert.Equal(ArrayMap.BpfArrayHeaderSize + (100UL * 8) + (100UL * 16 * (ulong)_m.PossibleCpus), a.MapMemUsage());
    }

    [Theory]
    [InlineData(BpfMapType.BPF_MAP_TYPE_PROG_ARRAY)]
    [InlineData(BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY)]
    [InlineData(BpfMapType.BPF_MAP_TYPE_CGROUP_ARRAY)]
    public void FdArraysHoldOnePointerPerEntry(BpfMapType type)
    {
        // fd arrays store a pointer (prog, perf event, cgroup) in each 8-byte slot: array_size grows by 8 per entry,
        // whatever value_size (4, an fd) says.
        var fd = _m.Bpf.MapCreate(_t, Attr(type, entries: 300, value: 4));
        Assert.True(fd >= 0);
        var a = MapOf(fd);
        Assert.Equal(ArrayMap.BpfArrayHeaderSize + (300UL * 8), a.AllocSize);
    }

    [Fact]
    public void PlainArrayValuesFollowTheHeader()
    {
        var fd = _m.Bpf.MapCreate(_t, Attr(BpfMapType.BPF_MAP_TYPE_ARRAY, entries: 3, value: 5));
        var a = MapOf(fd);
        Assert.Equal(8u, a.ElemSize);                                    // round_up(5, 8)
        Assert.Equal(a.Area + ArrayMap.BpfArrayHeaderSize, a.ValueBase);
        Assert.Equal(a.ValueBase + 16, a.ElemAddr(2));
        Assert.Equal(ArrayMap.BpfArrayHeaderSize + 24, a.AllocSize);
        Assert.Equal(a.AllocSize, a.MapMemUsage());
    }

    [Fact]
    public void VmallocinfoNamesArrayMapAllocAsTheCaller()
    {
        // /proc/vmallocinfo shows the caller __bpf_map_area_alloc was inlined into: array_map_alloc.
        var mm = _m.Bpf.MapCreate(_t, Attr(BpfMapType.BPF_MAP_TYPE_ARRAY, entries: 1024, flags: BpfF.BPF_F_MMAPABLE));
        Assert.True(mm >= 0);
        Assert.Contains("array_map_alloc pages=3 vmalloc user", _m.Vmalloc.VmallocInfo());  // header page + 2 value pages

        var big = _m.Bpf.MapCreate(_t, Attr(BpfMapType.BPF_MAP_TYPE_ARRAY, entries: 8192, value: 8)); // > 32 KiB: vmalloc
        Assert.True(big >= 0);
        Assert.True(VmallocAllocator.IsVmallocAddr(MapOf(big).Area));
        Assert.Contains("array_map_alloc pages=17 vmalloc", _m.Vmalloc.VmallocInfo());    // PAGE_ALIGN(320 + 65536)
    }

    [Fact]
    public void GetNextKeyWalksTheIndicesAndRestartsFromZero()
    {
        var fd = (int)_m.Bpf.MapCreate(_t, Attr(BpfMapType.BPF_MAP_TYPE_ARRAY, entries: 3));
        var next = new byte[4];
        Assert.Equal(0, _m.Bpf.MapGetNextKey(_t, fd, Key(0), false, next));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(next));
        Assert.Equal(0, _m.Bpf.MapGetNextKey(_t, fd, Key(1), false, next));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(next));
        Assert.Equal(Errno.ENOENT.Neg(), _m.Bpf.MapGetNextKey(_t, fd, Key(2), false, next)); // the last index
        BinaryPrimitives.WriteUInt32LittleEndian(next, 77);
        Assert.Equal(0, _m.Bpf.MapGetNextKey(_t, fd, Key(3), false, next));                   // past the end: 0
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(next));
        BinaryPrimitives.WriteUInt32LittleEndian(next, 77);
        Assert.Equal(0, _m.Bpf.MapGetNextKey(_t, fd, Key(uint.MaxValue), false, next));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(next));
    }

    [Fact]
    public void UpdateFlagsAreCheckedBeforeTheIndexAndNoexistAfterIt()
    {
        // array_map_update_elem(): unknown flags → EINVAL, then index ≥ max_entries → E2BIG, then BPF_NOEXIST →
        // EEXIST, then BPF_F_LOCK without a bpf_spin_lock → EINVAL.
        var fd = (int)_m.Bpf.MapCreate(_t, Attr(BpfMapType.BPF_MAP_TYPE_ARRAY, entries: 2));
        var v = new byte[8];
        Assert.Equal(Errno.EINVAL.Neg(), _m.Bpf.MapUpdateElem(_t, fd, Key(9), v, flags: BpfF.BPF_EXIST + 1));
        Assert.Equal(Errno.E2BIG.Neg(), _m.Bpf.MapUpdateElem(_t, fd, Key(2), v, flags: BpfF.BPF_NOEXIST));
        Assert.Equal(Errno.EEXIST.Neg(), _m.Bpf.MapUpdateElem(_t, fd, Key(1), v, flags: BpfF.BPF_NOEXIST));
        Assert.Equal(Errno.EINVAL.Neg(), _m.Bpf.MapUpdateElem(_t, fd, Key(1), v, flags: BpfF.BPF_F_LOCK));
        v[0] = 9;
        Assert.Equal(0, _m.Bpf.MapUpdateElem(_t, fd, Key(1), v, flags: BpfF.BPF_EXIST));
        var r = new byte[8];
        Assert.Equal(0, _m.Bpf.MapLookupElem(_t, fd, Key(1), r));
        Assert.Equal(9, r[0]);
        Assert.Equal(Errno.EINVAL.Neg(), _m.Bpf.MapDeleteElem(_t, fd, Key(1)));
    }
    [Fact]
    public void ValueSizeOfIntMaxPassesTheCheckAndOneMoreIsE2big()
    {
        // array_map_alloc_check(): value_size > INT_MAX → E2BIG; INT_MAX itself passes the check, and the 2 GiB
        // array then fails to allocate (-ENOMEM).
        Assert.Equal(Errno.E2BIG.Neg(), _m.Bpf.MapCreate(_t, Attr(BpfMapType.BPF_MAP_TYPE_ARRAY, entries: 1, value: int.MaxValue + 1u)));
        Assert.Equal(Errno.ENOMEM.Neg(), _m.Bpf.MapCreate(_t, Attr(BpfMapType.BPF_MAP_TYPE_ARRAY, entries: 1, value: int.MaxValue)));
        _m.SyscallExit();
        Assert.Empty(_m.Bpf.Maps);
    }

    [Fact]
    public void UnprivilegedPowerOfTwoEntriesNeedNoPadding()
    {
        // Without CAP_PERFMON the storage is padded to index_mask + 1; a power of two is its own round-up, so
        // max_entries = index_mask + 1 is fine (E2BIG only when the u32 round-up wrapped below max_entries).
        _t.Capabilities.Remove(Capability.CAP_PERFMON);
        _t.Capabilities.Remove(Capability.CAP_SYS_ADMIN);
        var fd = _m.Bpf.MapCreate(_t, Attr(BpfMapType.BPF_MAP_TYPE_ARRAY, entries: 4));
        Assert.True(fd >= 0);
        var a = MapOf(fd);
        Assert.False(a.BypassSpecV1);
        Assert.Equal(3u, a.IndexMask);
        Assert.Equal(ArrayMap.BpfArrayHeaderSize + (4UL * 8), a.AllocSize);
        var one = MapOf(_m.Bpf.MapCreate(_t, Attr(BpfMapType.BPF_MAP_TYPE_ARRAY, entries: 1)));
        Assert.Equal(0u, one.IndexMask);
        Assert.Equal(ArrayMap.BpfArrayHeaderSize + 8, one.AllocSize);
    }

    [Fact]
    public void AReadOnlyMappingHasNoMaywriteAndMayBeFrozen()
    {
        // bpf_map_mmap(): a mapping without VM_WRITE loses VM_MAYWRITE and takes no writecnt, so the map can still
        // be frozen (map_freeze: EBUSY only while writecnt > 0). The invariants count VM_MAYWRITE VMAs per map.
        var fd = (int)_m.Bpf.MapCreate(_t, Attr(BpfMapType.BPF_MAP_TYPE_ARRAY, entries: 1024, flags: BpfF.BPF_F_MMAPABLE));
        var map = MapOf(fd);
        var ro = _t.Mmap(0, 2 * K.PAGE_SIZE, Mman.PROT_READ, Mman.MAP_SHARED, fd);
        Assert.True(ro > 0);
        var vma = Assert.Single(map.LiveVmas());
        Assert.True((vma.VmFlags & VmFlags.VM_MAYWRITE) == 0);
        Assert.Equal(0L, map.Writecnt);
        TestMachines.AssertInvariants(_m);
        Assert.Equal(0, _m.Bpf.MapFreeze(_t, fd));
        Assert.True(map.Frozen);
        Assert.Contains(map.ShowDetails(), l => l.Contains("writecnt 0  frozen 1", StringComparison.Ordinal));
        TestMachines.AssertInvariants(_m);

        var rw = _t.Mmap(0, K.PAGE_SIZE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd);
        Assert.Equal(Errno.EPERM.Neg(), rw);  // bpf_map_mmap: frozen maps refuse writable mappings
        Assert.Single(map.LiveVmas());
    }
}
