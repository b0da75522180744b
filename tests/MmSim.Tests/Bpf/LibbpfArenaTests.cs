using System.Buffers.Binary;
using MmSim.Bpf;
using MmSim.Kernel;
using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Bpf;

/// <summary>
/// The libbpf-style loader, and user-space walks of data structures a program built in the arena (the shapes of
/// selftests progs/arena_list.c and progs/arena_htab.c; pointers in arena memory are stored in user form, as the
/// compiler's cast_user before a store leaves them).
/// </summary>
public class LibbpfArenaTests
{
    private const ulong Base = 0x1_0000_0000;
    private const ulong P = 4096;

    private static (Machine M, TaskStruct T) New()
    {
        var m = new Machine(new MachineConfig { RamBytes = 64UL << 20 });
        return (m, m.Tasks.Spawn("p"));
    }

    private static BpfProg LoadProg(TaskStruct t, int fd)
    {
        var pfd = t.Machine.Bpf.ProgLoad(t, [fd], out var prog);
        Assert.True(pfd >= 0, $"prog_load: {pfd}");
        return prog!;
    }

    [Fact]
    public void ArenaGlobalsAreCopiedAndNamed()
    {
        var (m, t) = New();
        var image = new byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(image, 0x1111);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(8), 0x2222);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(16), 0x33);
        var fd = Libbpf.LoadArena(t, 100, Base, 0, image,
            [new BpfGlobal("a", 0, 8), new BpfGlobal("b", 8, 8), new BpfGlobal("c", 16, 4)], out var arena);
        Assert.True(fd >= 0, $"{fd}");
        Assert.Equal(Base, arena!.Mmaped);
        Assert.Equal(0x2222UL, arena.Read("b").Value);
        Assert.Equal(1L, arena.Map.NrPages); // the copy faulted the first page in
        var prog = LoadProg(t, (int)fd);
        var map = (BpfArena)prog.Arena!;
        Assert.Equal(0x33UL, map.ProbeMem32Load(arena.AddressOf("c"), 4));
        map.ProbeMem32Store(arena.AddressOf("a"), 8, 0x4444);
        Assert.Equal(0x4444UL, arena.Read("a").Value);
        TestMachines.AssertInvariants(m);
    }

    [Fact]
    public void ArenaWithoutMapExtraIsPlacedByMmap()
    {
        var (_, t) = New();
        var fd = Libbpf.LoadArena(t, 16, 0, 0, new byte[8], [new BpfGlobal("x", 0, 8)], out var arena);
        Assert.True(fd >= 0);
        Assert.Equal(arena!.Mmaped, arena.Map.UserVmStart);
        Assert.Equal(arena.Mmaped >> 32, (arena.Mmaped + (16 * P) - 1) >> 32);
    }

    [Fact]
    public void SegvOnFaultArenaCannotTakeAnImage()
    {
        var (m, t) = New();
        var free = m.PageAlloc.NrFreePages;
        Assert.Equal(Errno.EFAULT.Neg(), Libbpf.LoadArena(t, 16, Base, BpfF.BPF_F_SEGV_ON_FAULT, new byte[8], [], out var arena));
        Assert.Null(arena);
        m.SyscallExit();
        Assert.Equal(0, t.Files!.Count);
        _ = free;
    }

    [Fact]
    public void UserWalksAProgramBuiltList()
    {
        // arena_list: the program allocates elements and pushes them at the head (list_add_head); user space walks
        // from the global list_head and sums the values, as prog_tests/arena_list.c does.
        var (m, t) = New();
        var fd = Libbpf.LoadArena(t, 100, Base, 0, new byte[16], [new BpfGlobal("list_head", 0, 8), new BpfGlobal("list_sum", 8, 8)], out var arena);
        Assert.True(fd >= 0);
        var prog = LoadProg(t, (int)fd);
        var map = (BpfArena)prog.Arena!;
        const int N = 1000;
        ulong page = 0, used = P, expected = 0;
        for (var i = 0; i < N; i++)
        {
            if (used + 24 > P)
            {
                page = BpfArena.BpfArenaAllocPages(map, 0, 1, BpfF.NUMA_NO_NODE, 0); // bpf_alloc's page refill
                Assert.NotEqual(0UL, page);
                used = 0;
            }

            var n = BpfArena.CastKern(page + used); // as(1) pointer
            used += 24;
            var head = map.ProbeMem32Load(arena!.AddressOf("list_head"), 8);
            map.ProbeMem32Store(n, 8, head);                       // n->next = first
            map.ProbeMem32Store(n, 8, (ulong)i, 16);               // n->value = i
            map.ProbeMem32Store(arena.AddressOf("list_head"), 8, map.CastUser(n)); // head->first = n
            expected += (ulong)i;
        }

        map.ProbeMem32Store(arena!.AddressOf("list_sum"), 8, expected);
        ulong sum = 0, count = 0;
        for (var p = arena.Read("list_head").Value; p != 0; p = t.UserRead(p).Value)
        {
            sum += t.UserRead(p + 16).Value;
            count++;
        }

        Assert.Equal((ulong)N, count);
        Assert.Equal(expected, sum);
        Assert.Equal(expected, arena.Read("list_sum").Value);
        TestMachines.AssertInvariants(m);
    }

    [Fact]
    public void UserLooksUpAProgramBuiltHashTable()
    {
        // arena_htab: a bucket array in the arena, each bucket a singly linked list of {next, key, value}; the program
        // inserts, user space looks every key up through the mapping (prog_tests/arena_htab.c).
        var (m, t) = New();
        const int Buckets = 64;
        var fd = Libbpf.LoadArena(t, 200, Base, 0, new byte[8], [new BpfGlobal("htab", 0, 8)], out var arena);
        Assert.True(fd >= 0);
        var prog = LoadProg(t, (int)fd);
        var map = (BpfArena)prog.Arena!;
        var buckets = BpfArena.BpfArenaAllocPages(map, 0, 1, -1, 0);
        map.ProbeMem32Store(arena!.AddressOf("htab"), 8, buckets);
        const int N = 500;
        ulong page = 0, used = P;
        for (var k = 0UL; k < N; k++)
        {
            if (used + 24 > P)
            {
                page = BpfArena.BpfArenaAllocPages(map, 0, 1, -1, 0);
                used = 0;
            }

            var e = page + used;
            used += 24;
            var b = BpfArena.CastKern(buckets) + (k % Buckets * 8);
            map.ProbeMem32Store(e, 8, map.ProbeMem32Load(b, 8)); // e->next = bucket head
            map.ProbeMem32Store(e, 8, k, 8);
            map.ProbeMem32Store(e, 8, k * 2, 16);
            map.ProbeMem32Store(b, 8, map.CastUser(e));
        }

        var htab = arena.Read("htab").Value;
        for (var k = 0UL; k < N; k++)
        {
            var found = false;
            for (var e = t.UserRead(htab + (k % Buckets * 8)).Value; e != 0; e = t.UserRead(e).Value)
            {
                if (t.UserRead(e + 8).Value == k)
                {
                    Assert.Equal(k * 2, t.UserRead(e + 16).Value);
                    found = true;
                    break;
                }
            }

            Assert.True(found, $"key {k}");
        }

        TestMachines.AssertInvariants(m);
    }

    [Fact]
    public void SkeletonBssFlow()
    {
        // .bss: anonymous shared mapping with the initial image; user edits before load; map create + update +
        // MAP_FIXED remap at the same address; afterwards user and program share the array's value.
        var (m, t) = New();
        Assert.Equal(0L, Libbpf.OpenInternalMap(t, ".bss", new byte[64], out var bss));
        Assert.True(t.UserWrite(bss!.Mmaped + 8, 8, 0xfeed).Ok); // skel->bss->x = 0xfeed before load
        var fd = Libbpf.LoadInternalMap(bss);
        Assert.True(fd >= 0, $"{fd}");
        Assert.Equal(0xfeedUL, t.UserRead(bss.Mmaped + 8).Value);
        var prog = LoadProg(t, (int)fd);
        var map = prog.MapByFd((ulong)fd)!;
        var value = new byte[64];
        Assert.Equal(0, BpfSubsystem.ProgMapLookup(prog, map, new byte[4], value));
        Assert.Equal(0xfeedUL, BinaryPrimitives.ReadUInt64LittleEndian(value.AsSpan(8)));
        BinaryPrimitives.WriteUInt64LittleEndian(value, 0xbeef);
        Assert.Equal(0, BpfSubsystem.ProgMapUpdate(prog, map, new byte[4], value, 0));
        Assert.Equal(0xbeefUL, t.UserRead(bss.Mmaped).Value);
        Assert.Equal(1, t.Mm!.Vmas.Count(v => v.VmStart == bss.Mmaped));
        TestMachines.AssertInvariants(m);
    }

    [Fact]
    public void SkeletonRodataIsFrozenAndReadOnly()
    {
        var (_, t) = New();
        Assert.Equal(0L, Libbpf.OpenInternalMap(t, ".rodata", new byte[16], out var ro));
        Assert.True(t.UserWrite(ro!.Mmaped, 8, 7).Ok);
        var fd = Libbpf.LoadInternalMap(ro);
        Assert.True(fd >= 0, $"{fd}");
        Assert.Equal(7UL, t.UserRead(ro.Mmaped).Value);
        Assert.Equal(Signal.SIGSEGV, t.UserWrite(ro.Mmaped, 8, 8).Signal?.Signo);
    }
}
