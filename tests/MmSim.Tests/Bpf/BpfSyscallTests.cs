using System.Buffers.Binary;
using MmSim.Bpf;
using MmSim.Kernel;
using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Bpf;

/// <summary>bpf(2) map commands: the paths the scenario corpus cannot reach (capabilities, attr, names, hooks).</summary>
public class BpfSyscallTests
{
    private readonly Machine _m = new(new MachineConfig { RamBytes = 64UL << 20 });
    private readonly TaskStruct _t;

    public BpfSyscallTests() => _t = _m.Tasks.Spawn("p");

    private static MapCreateAttr Array(uint entries = 4, uint flags = 0, uint value = 8) => new()
    {
        MapType = BpfMapType.BPF_MAP_TYPE_ARRAY,
        KeySize = 4,
        ValueSize = value,
        MaxEntries = entries,
        MapFlags = flags,
    };

    /// <summary>A 4-byte array key (shared with the other bpf tests).</summary>
    internal static byte[] Key(uint k)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, k);
        return b;
    }

    private BpfMap MapOf(long fd) => (BpfMap)_t.Files!.Lookup((int)fd)!.PrivateData!;

    [Fact]
    public void CreateNeedsCapBpfWhenUnprivilegedBpfIsDisabled()
    {
        _t.Capabilities.Remove(Capability.CAP_BPF);
        Assert.Equal(Errno.EPERM.Neg(), _m.Bpf.MapCreate(_t, Array()));
        Assert.Equal(Errno.EINVAL.Neg(), _m.Bpf.MapCreate(_t, Array(entries: 0))); // alloc_check comes first
        _m.Bpf.SysctlUnprivilegedBpfDisabled = 0;
        Assert.True(_m.Bpf.MapCreate(_t, Array()) >= 0);
    }

    [Fact]
    public void AttrTailNameAndTokenAreChecked()
    {
        Assert.Equal(Errno.EINVAL.Neg(), _m.Bpf.MapCreate(_t, Array() with { TailNonZero = true }));
        Assert.Equal(Errno.EINVAL.Neg(), _m.Bpf.MapCreate(_t, Array() with { MapName = "bad-name" }));
        Assert.Equal(Errno.EINVAL.Neg(), _m.Bpf.MapCreate(_t, Array() with { MapName = "sixteen_chars_xx" }));
        Assert.Equal(Errno.EBADF.Neg(), _m.Bpf.MapCreate(_t, Array(flags: BpfF.BPF_F_TOKEN_FD)));
        var fd = _m.Bpf.MapCreate(_t, Array() with { MapName = "ok_name.1" });
        Assert.Equal("ok_name.1", MapOf(fd).Name);
        _m.SyscallExit();
        Assert.Single(_m.Bpf.Maps); // the failed creates left nothing
        Assert.Equal(0, _t.Close((int)fd));
        _m.SyscallExit();
        Assert.Empty(_m.Bpf.Maps);
        TestMachines.AssertInvariants(_m);
    }

    [Fact]
    public void WithoutPerfmonTheStorageIsPaddedToAPowerOfTwo()
    {
        _t.Capabilities.Remove(Capability.CAP_PERFMON);
        _t.Capabilities.Remove(Capability.CAP_SYS_ADMIN);
        var fd = _m.Bpf.MapCreate(_t, Array(entries: 5));
        var a = (ArrayMap)MapOf(fd);
        Assert.False(a.BypassSpecV1);
        Assert.Equal(7u, a.IndexMask);
        Assert.Equal(ArrayMap.BpfArrayHeaderSize + (8UL * 8), a.AllocSize);
        Assert.Equal(Errno.E2BIG.Neg(), _m.Bpf.MapCreate(_t, Array(entries: 0x80000001, value: 1)));
        _t.Capabilities.Add(Capability.CAP_PERFMON);
        var b = (ArrayMap)MapOf(_m.Bpf.MapCreate(_t, Array(entries: 5)));
        Assert.True(b.BypassSpecV1);
        Assert.Equal(ArrayMap.BpfArrayHeaderSize + (5UL * 8), b.AllocSize);
    }

    [Fact]
    public void MmapableLayoutPutsTheValuesOnAPageBoundary()
    {
        var a = (ArrayMap)MapOf(_m.Bpf.MapCreate(_t, Array(entries: 1000, flags: BpfF.BPF_F_MMAPABLE, value: 12)));
        Assert.Equal(16u, a.ElemSize);
        Assert.Equal(0UL, a.ValueBase % K.PAGE_SIZE);
        Assert.Equal(a.Area + K.PAGE_SIZE, a.ValueBase);
        Assert.Equal(K.PAGE_SIZE + K.PageAlign(16000), a.AllocSize);
        Assert.Equal(a.AllocSize, a.MapMemUsage());
    }

    [Fact]
    public void MemcgChargeIsExactAndUnchargedOnFree()
    {
        var before = _m.Memcg.Usage;
        var fd = _m.Bpf.MapCreate(_t, Array(entries: 8, flags: BpfF.BPF_F_MMAPABLE));
        var filp = (ulong)_m.Vm.FilpCachep.Size;
        Assert.Equal(before + (2 * K.PAGE_SIZE) + filp, _m.Memcg.Usage); // header page + one value page + the file
        _t.Close((int)fd);
        Assert.Equal(before + (2 * K.PAGE_SIZE), _m.Memcg.Usage);        // freed only after the grace period
        _m.SyscallExit();
        Assert.Equal(before, _m.Memcg.Usage);
    }

    [Fact]
    public void ValueAndKeyBuffersThatAreTooShortFault()
    {
        var fd = (int)_m.Bpf.MapCreate(_t, Array(value: 16));
        Assert.Equal(Errno.EFAULT.Neg(), _m.Bpf.MapUpdateElem(_t, fd, Key(0), new byte[8]));
        Assert.Equal(Errno.EFAULT.Neg(), _m.Bpf.MapUpdateElem(_t, fd, new byte[2], new byte[16]));
        Assert.Equal(Errno.EFAULT.Neg(), _m.Bpf.MapLookupElem(_t, fd, Key(0), new byte[8]));
        Assert.Equal(Errno.EINVAL.Neg(), _m.Bpf.MapLookupElem(_t, fd, Key(0), new byte[16], flags: 8));
        var v = new byte[16];
        v[15] = 0xab;
        Assert.Equal(0, _m.Bpf.MapUpdateElem(_t, fd, Key(3), v));
        var r = new byte[16];
        Assert.Equal(0, _m.Bpf.MapLookupElem(_t, fd, Key(3), r));
        Assert.Equal(0xab, r[15]);
        Assert.Equal(0, _m.Bpf.MapGetNextKey(_t, fd, default, true, r));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(r));
    }

    [Fact]
    public void PerfEventEntriesHoldTheEventFileUntilTheAddingMapFileGoes()
    {
        var pe = (int)_m.Bpf.MapCreate(_t, new MapCreateAttr
        {
            MapType = BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY,
            KeySize = 4,
            ValueSize = 4,
            MaxEntries = 2,
        });
        var e = PerfEventFileOps.PerfEventOpen(_t);
        var ef = _t.Files!.Lookup(e)!;
        var v = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(v, e);
        Assert.Equal(0, _m.Bpf.MapUpdateElem(_t, pe, Key(0), v));
        Assert.Equal(0, _m.Bpf.MapUpdateElem(_t, pe, Key(1), v));
        Assert.Equal(3, ef.FCount);
        Assert.Equal(0, _m.Bpf.MapDeleteElem(_t, pe, Key(1)));
        Assert.Equal(2, ef.FCount);
        _t.Close(pe);
        Assert.Equal(1, ef.FCount);
        _m.SyscallExit();
        Assert.Empty(_m.Bpf.Maps);
    }

    [Fact]
    public void CgroupArraySlotsHoldCgroupReferencesUntilTheMapIsFreed()
    {
        var ca = (int)_m.Bpf.MapCreate(_t, new MapCreateAttr
        {
            MapType = BpfMapType.BPF_MAP_TYPE_CGROUP_ARRAY,
            KeySize = 4,
            ValueSize = 4,
            MaxEntries = 2,
        });
        var c = CgroupDirFileOps.CgroupOpen(_t);
        var cgrp = (Cgroup)_t.Files!.Lookup(c)!.PrivateData!;
        var v = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(v, c);
        Assert.Equal(0, _m.Bpf.MapUpdateElem(_t, ca, Key(0), v));
        Assert.Equal(0, _m.Bpf.MapUpdateElem(_t, ca, Key(0), v)); // replaces: the old reference goes
        Assert.Equal(2, cgrp.Refcnt);
        _t.Close(c);
        Assert.Equal(1, cgrp.Refcnt);
        _t.Close(ca);
        Assert.Equal(1, cgrp.Refcnt); // map_free runs after the grace period
        _m.SyscallExit();
        Assert.Equal(0, cgrp.Refcnt);
    }

    private sealed class RefusingOps : BpfMapOps
    {
        public override BpfMapType MapType => BpfMapType.BPF_MAP_TYPE_HASH;

        public override int MapAlloc(BpfSubsystem bpf, MapCreateAttr attr, out BpfMap? map)
        {
            map = new RefusingMap(bpf, attr);
            return 0;
        }
    }

    private sealed class RefusingMap(BpfSubsystem bpf, MapCreateAttr attr) : BpfMap(bpf, attr)
    {
        public int Checks { get; private set; }

        public override int CheckProgLoad(BpfProg prog)
        {
            Checks++;
            return prog.UsedMaps.Count > 0 ? -(int)Errno.EBUSY : 0;
        }

        public override void MapFree()
        {
        }

        public override ulong MapMemUsage() => 0;
    }

    [Fact]
    public void ProgLoadTakesMapReferencesAndConsultsTheCheckProgLoadHook()
    {
        _m.Bpf.RegisterMapType(new RefusingOps());
        var a = (int)_m.Bpf.MapCreate(_t, Array());
        var h = (int)_m.Bpf.MapCreate(_t, new MapCreateAttr { MapType = BpfMapType.BPF_MAP_TYPE_HASH, MaxEntries = 1 });
        var hm = (RefusingMap)MapOf(h);
        var am = MapOf(a);
        Assert.Equal(Errno.EBADF.Neg(), _m.Bpf.ProgLoad(_t, [a, 42]));
        Assert.Equal(Errno.EBUSY.Neg(), _m.Bpf.ProgLoad(_t, [a, h]));   // the hook refused: nothing kept
        Assert.Equal(1, am.Refcnt);
        var g = (int)_m.Bpf.ProgLoad(_t, [h, a, a]);
        Assert.True(g >= 0);
        Assert.Equal(Errno.EINVAL.Neg(), _m.Bpf.ProgLoad(_t, [g]));     // a program fd is not a map
        Assert.Equal(2, am.Refcnt);
        Assert.Equal(2, hm.Refcnt);
        Assert.Equal(2, hm.Checks);
        _t.Close(a);
        _t.Close(h);
        _m.SyscallExit();
        Assert.Equal(2, _m.Bpf.Maps.Count);      // the program keeps both
        TestMachines.AssertInvariants(_m);
        _t.Close(g);
        _m.SyscallExit();
        Assert.Empty(_m.Bpf.Maps);
        Assert.Empty(_m.Bpf.Progs);
    }
}
