namespace MmSim.Mm;

/// <summary>
/// A kernel object that the kernel allocates from a slab cache (a VMA, a file, a map, a maple node...). It owns one
/// object slot of its cache, so page and slab accounting are real, and it knows when it was freed: every
/// dereference of such an object in modelled code goes through <see cref="Kasan.Check"/>, which reports a use
/// after free the way KASAN would.
/// </summary>
public abstract class SlabObject
{
    /// <summary>The object's kernel virtual address (in the direct map), 0 until allocated.</summary>
    public ulong KernelAddress { get; internal set; }

    /// <summary>The cache it came from.</summary>
    public KmemCache? Cache { get; internal set; }

    /// <summary>True once kmem_cache_free() returned the slot.</summary>
    public bool Freed { get; internal set; }

    /// <summary>The function that freed it (KASAN prints it as "Freed by task ...").</summary>
    public string? FreedBy { get; internal set; }

    /// <summary>How KASAN names the object in a report.</summary>
    public virtual string Describe() => $"{GetType().Name} at 0x{KernelAddress:x}";
}
