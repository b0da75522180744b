namespace MmSim.Bpf;

/// <summary>The quick path of the bpf invariant.</summary>
public sealed partial class BpfSubsystem
{
    /// <summary>
    /// True only when <see cref="CheckInvariants"/> would report nothing: the same conditions without the messages,
    /// each map's through <see cref="BpfMap.InvariantsHold"/>. Keep both in step.
    /// </summary>
    private bool InvariantsHold()
    {
        // (Enumerating a SortedDictionary allocates its stack: skip the empty ones.)
        if (Maps.Count != 0)
        {
            foreach (var map in Maps.Values)
            {
                if (map.Refcnt != 0 &&
                    (map.Refcnt != map.OpenFiles + map.ProgRefs || map.Usercnt != map.OpenFiles || !map.InvariantsHold()))
                {
                    return false;
                }
            }
        }

        if (Progs.Count != 0)
        {
            foreach (var prog in Progs.Values)
            {
                var used = prog.UsedMaps;
                for (var i = 0; i < used.Count; i++)
                {
                    if (used[i].Freed)
                    {
                        return false;
                    }
                }
            }
        }

        return true;
    }
}
