namespace MmSim.Kernel;

/// <summary>
/// The behaviour differences between the kernel versions MmSim reproduces. Every version-dependent place
/// consults one of these properties; nothing else checks a version.
/// </summary>
public sealed class KernelProfile
{
    private KernelProfile(string name, string description, bool arenaVmaFixes)
    {
        Name = name;
        Description = description;
        ArenaVmaDontCopy = arenaVmaFixes;
        ArenaMaySplitRefuses = arenaVmaFixes;
        ArenaMremapRefuses = arenaVmaFixes;
    }

    /// <summary>The profile's name: the kernel version whose behaviour it reproduces.</summary>
    public string Name { get; }

    public string Description { get; }

    /// <summary>Stable fix 4fddde2a732d: arena VMAs are VM_DONTCOPY (fork does not inherit them).</summary>
    public bool ArenaVmaDontCopy { get; }

    /// <summary>Stable fix 4fddde2a732d: arena_vm_may_split returns -EINVAL.</summary>
    public bool ArenaMaySplitRefuses { get; }

    /// <summary>Stable fix 4fddde2a732d: arena VMAs carry an mremap callback that returns -EINVAL.</summary>
    public bool ArenaMremapRefuses { get; }

    /// <summary>
    /// Functions whose WARN_ON the real kernel of this profile also hits from user space (MmSim reproduces them, it
    /// does not cause them). <c>mmsim check</c> counts them as known kernel warnings instead of violations unless it
    /// runs with <c>--strict</c>; a scenario still has to expect them (<c>=&gt; WARN</c>). See docs/verification.md.
    /// </summary>
    public IReadOnlyList<string> KnownUserReachableWarnings { get; } =
    [
        // WARN_ON_ONCE(arena->user_vm_start): a second mmap of a bound arena without MAP_FIXED, when the 2*len
        // area mm_get_unmapped_area() finds elsewhere straddles a 4 GiB boundary (arena.c, every 6.12 kernel).
        "arena_get_unmapped_area",
    ];

    /// <summary>Linux 6.12 LTS with its stable fixes (the default).</summary>
    public static KernelProfile V6_12_y { get; } = new("6.12.y",
        "Linux 6.12 LTS with its stable fixes: arena VMAs are VM_DONTCOPY, refuse to split and to be remapped", true);

    /// <summary>Linux v6.12 as released, with the arena fork/split use-after-free.</summary>
    public static KernelProfile V6_12_0 { get; } = new("6.12.0",
        "Linux v6.12 as released: fork inherits arena VMAs and munmap/mprotect can split them (vml->vma dangles)", false);

    public static KernelProfile Default => V6_12_y;

    public static IReadOnlyList<KernelProfile> All { get; } = [V6_12_y, V6_12_0];

    public static bool TryGet(string name, out KernelProfile profile)
    {
        foreach (var p in All)
        {
            if (p.Name == name)
            {
                profile = p;
                return true;
            }
        }

        profile = Default;
        return false;
    }

    public override string ToString() => Name;
}
