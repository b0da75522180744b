using MmSim.Kernel;

namespace MmSim.Vm;

/// <summary>The PTE bits MmSim keeps (arch/x86/include/asm/pgtable_types.h, reduced).</summary>
[Flags]
public enum PteFlags : byte
{
    None = 0,

    /// <summary>pte_present(): the entry maps a page (including PROT_NONE entries, which the hardware cannot use).</summary>
    Valid = 1 << 0,

    /// <summary>_PAGE_PRESENT: user accesses may read through the entry (clear for PROT_NONE).</summary>
    Present = 1 << 1,

    /// <summary>_PAGE_RW.</summary>
    Write = 1 << 2,

    /// <summary>_PAGE_DIRTY.</summary>
    Dirty = 1 << 3,

    /// <summary>pte_special(): no struct page behind it to count (PFN maps, the zero page).</summary>
    Special = 1 << 4,
}

/// <summary>One page-table entry: the PFN it maps and its bits.</summary>
public struct Pte
{
    public long Pfn;
    public PteFlags Flags;

    public readonly bool IsValid => (Flags & PteFlags.Valid) != 0;

    public readonly bool IsWrite => (Flags & PteFlags.Write) != 0;

    public readonly bool IsSpecial => (Flags & PteFlags.Special) != 0;

    public override readonly string ToString() => $"pfn {Pfn:x} {Flags}";
}

/// <summary>
/// A process's page tables: PTE pages of 512 entries (one per 2 MiB of address space) found through a dictionary,
/// plus an ordered index of the PTE pages for range walks (zap, copy, change_protection). Lookups and updates of
/// existing PTE pages allocate nothing. The upper levels and the PTE pages themselves are host memory: they are not
/// simulated page frames.
/// </summary>
public sealed class PageTable
{
    /// <summary>PTRS_PER_PTE.</summary>
    public const int PTRS_PER_PTE = 512;

    /// <summary>The PFN MmSim uses for the shared zero page (my_zero_pfn()); it is not a simulated frame.</summary>
    public const long ZERO_PFN = -2;

    private const int PoolLimit = 64;

    private readonly Dictionary<ulong, PteTable> _tables = [];
    private readonly SortedSet<ulong> _index = [];
    private readonly Stack<PteTable> _pool = new();
    private ulong _lastKey = ulong.MaxValue;
    private PteTable? _last;

    internal sealed class PteTable
    {
        public readonly Pte[] Entries = new Pte[PTRS_PER_PTE];
        public int Used;
    }

    /// <summary>Valid PTEs in the whole table (the mm's RSS, in pages).</summary>
    public long NrValid { get; private set; }

    /// <summary>PTE pages in use.</summary>
    public int NrPtePages => _tables.Count;

    /// <summary>The PTE for <paramref name="addr"/>; default (not valid) when none.</summary>
    public Pte Get(ulong addr)
    {
        var t = Table(addr >> (K.PAGE_SHIFT + 9));
        return t is null ? default : t.Entries[(addr >> K.PAGE_SHIFT) & (PTRS_PER_PTE - 1)];
    }

    /// <summary>
    /// A reference to the PTE for <paramref name="addr"/> for in-place changes of a valid entry. Only valid entries
    /// may be changed this way (use <see cref="Set"/> and <see cref="Clear"/> to create or remove one).
    /// </summary>
    public ref Pte Entry(ulong addr)
    {
        var t = Table(addr >> (K.PAGE_SHIFT + 9)) ?? throw new KernelBugException($"no PTE page for 0x{addr:x}");
        return ref t.Entries[(addr >> K.PAGE_SHIFT) & (PTRS_PER_PTE - 1)];
    }

    /// <summary>set_pte_at(): install a valid entry where there was none.</summary>
    public void Set(ulong addr, long pfn, PteFlags flags)
    {
        var key = addr >> (K.PAGE_SHIFT + 9);
        var t = Table(key);
        if (t is null)
        {
            t = _pool.Count > 0 ? _pool.Pop() : new PteTable();
            _tables.Add(key, t);
            _index.Add(key);
            _lastKey = key;
            _last = t;
        }

        ref var e = ref t.Entries[(addr >> K.PAGE_SHIFT) & (PTRS_PER_PTE - 1)];
        if (e.IsValid)
        {
            throw new KernelBugException($"set_pte_at over a valid PTE at 0x{addr:x} ({e})");
        }

        e.Pfn = pfn;
        e.Flags = flags | PteFlags.Valid;
        t.Used++;
        NrValid++;
    }

    /// <summary>ptep_get_and_clear(): remove a valid entry and return it.</summary>
    public Pte Clear(ulong addr)
    {
        var t = Table(addr >> (K.PAGE_SHIFT + 9)) ?? throw new KernelBugException($"clear of a missing PTE at 0x{addr:x}");
        ref var e = ref t.Entries[(addr >> K.PAGE_SHIFT) & (PTRS_PER_PTE - 1)];
        var old = e;
        if (!old.IsValid)
        {
            throw new KernelBugException($"clear of an invalid PTE at 0x{addr:x}");
        }

        e = default;
        t.Used--;
        NrValid--;
        return old;
    }

    /// <summary>
    /// The addresses of the valid PTEs in [start, end), ascending. The walk tolerates <see cref="Clear"/> and
    /// in-place changes of the entry it is on, and <see cref="Set"/> of entries outside the walked range.
    /// </summary>
    public ValidEnumerable Valid(ulong start, ulong end) => new(this, start, end);

    /// <summary>free_pgtables(): drop PTE pages in [start, end) that hold no entry.</summary>
    public void FreePgtables(ulong start, ulong end)
    {
        if (end <= start || _tables.Count == 0)
        {
            return;
        }

        var lo = start >> (K.PAGE_SHIFT + 9);
        var hi = (end - 1) >> (K.PAGE_SHIFT + 9);
        List<ulong>? empty = null;
        foreach (var key in _index.GetViewBetween(lo, hi))
        {
            if (_tables[key].Used == 0)
            {
                (empty ??= []).Add(key);
            }
        }

        if (empty is null)
        {
            return;
        }

        foreach (var key in empty)
        {
            if (_tables.Remove(key, out var t) && _pool.Count < PoolLimit)
            {
                _pool.Push(t);
            }

            _index.Remove(key);
        }

        _lastKey = ulong.MaxValue;
        _last = null;
    }

    /// <summary>Every valid PTE, ascending (for invariants and views).</summary>
    public IEnumerable<(ulong Addr, Pte Pte)> All()
    {
        foreach (var key in _index)
        {
            var t = _tables[key];
            for (var i = 0; i < PTRS_PER_PTE; i++)
            {
                if (t.Entries[i].IsValid)
                {
                    yield return (((key << 9) + (ulong)i) << K.PAGE_SHIFT, t.Entries[i]);
                }
            }
        }
    }

    private PteTable? Table(ulong key)
    {
        if (key == _lastKey)
        {
            return _last;
        }

        if (_tables.TryGetValue(key, out var t))
        {
            _lastKey = key;
            _last = t;
            return t;
        }

        return null;
    }

    /// <summary>The PTE pages overlapping [start, end), ascending (a snapshot of their keys).</summary>
    private ulong[] KeysBetween(ulong start, ulong end)
    {
        if (end <= start || _tables.Count == 0)
        {
            return [];
        }

        var lo = start >> (K.PAGE_SHIFT + 9);
        var hi = (end - 1) >> (K.PAGE_SHIFT + 9);
        if (hi - lo < (ulong)_tables.Count)
        {
            var n = 0;
            for (var k = lo; k <= hi; k++)
            {
                if (_tables.ContainsKey(k))
                {
                    n++;
                }

                if (k == ulong.MaxValue)
                {
                    break;
                }
            }

            var keys = new ulong[n];
            n = 0;
            for (var k = lo; k <= hi; k++)
            {
                if (_tables.ContainsKey(k))
                {
                    keys[n++] = k;
                }

                if (k == ulong.MaxValue)
                {
                    break;
                }
            }

            return keys;
        }

        return [.. _index.GetViewBetween(lo, hi)];
    }

    /// <summary>
    /// The PTE pages, in no particular order, without allocation (invariant checks): entry i of the page with key k
    /// is the PTE of address ((k &lt;&lt; 9) + i) &lt;&lt; PAGE_SHIFT.
    /// </summary>
    internal TableEnumerator Tables() => new(_tables.GetEnumerator());

    /// <summary>The entries of the PTE page with key <paramref name="key"/> (see <see cref="Tables"/>), or null.</summary>
    internal Pte[]? TableAt(ulong key) => _tables.TryGetValue(key, out var t) ? t.Entries : null;

    /// <summary>The enumerator of <see cref="Tables"/>: (key, entries).</summary>
    internal struct TableEnumerator(Dictionary<ulong, PteTable>.Enumerator e)
    {
        private Dictionary<ulong, PteTable>.Enumerator _e = e;

        public (ulong Key, Pte[] Entries) Current => (_e.Current.Key, _e.Current.Value.Entries);

        public readonly TableEnumerator GetEnumerator() => this;

        public bool MoveNext() => _e.MoveNext();
    }

    /// <summary>Enumerates valid PTE addresses in a range.</summary>
    public readonly struct ValidEnumerable(PageTable pt, ulong start, ulong end)
    {
        public ValidEnumerator GetEnumerator() => new(pt, start, end);
    }

    /// <summary>The enumerator of <see cref="ValidEnumerable"/>.</summary>
    public struct ValidEnumerator
    {
        private readonly PageTable _pt;
        private readonly ulong[] _keys;
        private readonly ulong _start;
        private readonly ulong _end;
        private int _k;
        private int _i;
        private Pte[]? _entries;

        internal ValidEnumerator(PageTable pt, ulong start, ulong end)
        {
            _pt = pt;
            _start = start;
            _end = end;
            _keys = pt.KeysBetween(start, end);
            _k = -1;
            _i = PTRS_PER_PTE;
            _entries = null;
            Current = 0;
        }

        public ulong Current { get; private set; }

        public bool MoveNext()
        {
            while (true)
            {
                if (_entries is null || ++_i >= PTRS_PER_PTE)
                {
                    if (++_k >= _keys.Length)
                    {
                        return false;
                    }

                    var key = _keys[_k];
                    if (!_pt._tables.TryGetValue(key, out var t))
                    {
                        _entries = null;
                        continue;
                    }

                    _entries = t.Entries;
                    var first = key << (K.PAGE_SHIFT + 9);
                    _i = first >= _start ? 0 : (int)((_start - first) >> K.PAGE_SHIFT);
                }

                var addr = ((_keys[_k] << 9) + (ulong)_i) << K.PAGE_SHIFT;
                if (addr >= _end)
                {
                    return false;
                }

                if (_entries[_i].IsValid)
                {
                    Current = addr;
                    return true;
                }
            }
        }
    }
}
