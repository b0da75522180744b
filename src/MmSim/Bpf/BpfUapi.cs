namespace MmSim.Bpf;

/// <summary>enum bpf_map_type (include/uapi/linux/bpf.h): the values of the types MmSim models and their neighbours.</summary>
public enum BpfMapType : uint
{
    BPF_MAP_TYPE_UNSPEC = 0,
    BPF_MAP_TYPE_HASH = 1,
    BPF_MAP_TYPE_ARRAY = 2,
    BPF_MAP_TYPE_PROG_ARRAY = 3,
    BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4,
    BPF_MAP_TYPE_PERCPU_HASH = 5,
    BPF_MAP_TYPE_PERCPU_ARRAY = 6,
    BPF_MAP_TYPE_CGROUP_ARRAY = 8,
    BPF_MAP_TYPE_ARRAY_OF_MAPS = 12,
    BPF_MAP_TYPE_ARENA = 33,
    __MAX_BPF_MAP_TYPE = 34,
}

/// <summary>BPF_MAP_CREATE map_flags and element-op flags (include/uapi/linux/bpf.h).</summary>
public static class BpfF
{
    public const uint BPF_F_NO_PREALLOC = 1u << 0;
    public const uint BPF_F_NO_COMMON_LRU = 1u << 1;
    public const uint BPF_F_NUMA_NODE = 1u << 2;
    public const uint BPF_F_RDONLY = 1u << 3;
    public const uint BPF_F_WRONLY = 1u << 4;
    public const uint BPF_F_STACK_BUILD_ID = 1u << 5;
    public const uint BPF_F_ZERO_SEED = 1u << 6;
    public const uint BPF_F_RDONLY_PROG = 1u << 7;
    public const uint BPF_F_WRONLY_PROG = 1u << 8;
    public const uint BPF_F_CLONE = 1u << 9;
    public const uint BPF_F_MMAPABLE = 1u << 10;
    public const uint BPF_F_PRESERVE_ELEMS = 1u << 11;
    public const uint BPF_F_INNER_MAP = 1u << 12;
    public const uint BPF_F_LINK = 1u << 13;
    public const uint BPF_F_PATH_FD = 1u << 14;
    public const uint BPF_F_VTYPE_BTF_OBJ_FD = 1u << 15;
    public const uint BPF_F_TOKEN_FD = 1u << 16;
    public const uint BPF_F_SEGV_ON_FAULT = 1u << 17;
    public const uint BPF_F_NO_USER_CONV = 1u << 18;

    /// <summary>BPF_F_ACCESS_MASK.</summary>
    public const uint BPF_F_ACCESS_MASK = BPF_F_RDONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY | BPF_F_WRONLY_PROG;

    // Element-op flags.
    public const ulong BPF_ANY = 0;
    public const ulong BPF_NOEXIST = 1;
    public const ulong BPF_EXIST = 2;
    public const ulong BPF_F_LOCK = 4;

    /// <summary>MAX_TAIL_CALL_CNT (33 since v5.17).</summary>
    public const int MAX_TAIL_CALL_CNT = 33;

    /// <summary>BPF_OBJ_NAME_LEN.</summary>
    public const int BPF_OBJ_NAME_LEN = 16;

    /// <summary>NUMA_NO_NODE.</summary>
    public const int NUMA_NO_NODE = -1;
}

/// <summary>
/// The BPF_MAP_CREATE part of union bpf_attr. The simulator passes it by value instead of copying it from user
/// memory; <see cref="TailNonZero"/> stands for a non-zero unused tail (CHECK_ATTR → -EINVAL).
/// </summary>
public sealed record MapCreateAttr
{
    public BpfMapType MapType { get; init; }

    public uint KeySize { get; init; }

    public uint ValueSize { get; init; }

    public uint MaxEntries { get; init; }

    public uint MapFlags { get; init; }

    /// <summary>numa_node (only read when BPF_F_NUMA_NODE is set).</summary>
    public uint NumaNode { get; init; }

    public ulong MapExtra { get; init; }

    /// <summary>map_name; at most 15 characters of [A-Za-z0-9_.].</summary>
    public string MapName { get; init; } = "";

    public bool TailNonZero { get; init; }
}
