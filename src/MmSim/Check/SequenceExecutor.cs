using MmSim.Kernel;
using MmSim.Scenario;
using MmSim.Vm;

namespace MmSim.Check;

/// <summary>A property violated by a step: its kind (what shrinking must preserve), a message, the step's index.</summary>
/// <param name="Kind">The violation's kind, e.g. <c>KASAN slab-use-after-free in arena_vm_close</c>.</param>
/// <param name="Message">The report, violation or exception, in full.</param>
/// <param name="Step">The index of the violating step in its sequence.</param>
public sealed record Violation(string Kind, string Message, int Step)
{
    /// <summary>The statement to append after the violating step so that <c>mmsim run</c> fails there (null: none needed).</summary>
    public string? Witness { get; init; }

    public override string ToString() => $"step {Step + 1}: {Kind}: {Message}";
}

/// <summary>The outcome of one checked step.</summary>
internal enum StepVerdict
{
    Ok,
    Violation,

    /// <summary>The step is not a valid statement here (a name without a value, a parse error): the sequence stops.</summary>
    Invalid,
}

/// <summary>
/// Runs steps on a live <see cref="ScenarioSession"/> and checks every property after each one: no exception escapes
/// the simulator, no KASAN report, no WARN, every expectation holds (the teardown's accounting), every invariant of
/// <c>machine.Invariants</c> holds, and a step that fails with an errno leaves the state as it was.
/// </summary>
internal sealed class SequenceExecutor
{
    private readonly ScenarioSession _session;
    private readonly bool _checkInvariants;

    public SequenceExecutor(string machineLine, OpRegistry registry, bool checkInvariants = true)
    {
        _session = new ScenarioSession("check.mms", machineLine, new RunnerOptions { Registry = registry, Summary = false });
        _checkInvariants = checkInvariants;
    }

    public ScenarioSession Session => _session;

    public Machine Machine => _session.Machine;

    /// <summary>The last step's outcome.</summary>
    public SessionStep? Last { get; private set; }

    /// <summary>Treat every WARN as a violation, the profile's known kernel warnings included (<c>--strict</c>).</summary>
    public bool Strict { get; init; }

    /// <summary>Whether the last step hit only warnings the real kernel also hits (KernelProfile.KnownUserReachableWarnings).</summary>
    public bool LastWarnKnown { get; private set; }

    public StepVerdict Run(CheckStep step, int index, out Violation? violation)
    {
        violation = null;
        LastWarnKnown = false;
        var m = _session.Machine;
        var free0 = m.PageAlloc.NrFreePages;
        var subject = step.Subject is null ? null : _session.ObjectOf(step.Subject) as TaskStruct;
        var vmas0 = subject?.Mm?.MapCount ?? 0;
        var kasan0 = m.Reports.KasanCount;
        var warn0 = m.Reports.WarnCount;
        var r = _session.Execute(step.Line);
        Last = r;
        switch (r.Status)
        {
            case SessionStatus.ParseError:
            case SessionStatus.ScenarioError:
                return StepVerdict.Invalid;
            case SessionStatus.InternalError:
                {
                    var e = r.Exception;
                    violation = new Violation($"exception {e?.GetType().Name ?? "?"} in {step.Op}", e?.Message ?? r.Message ?? "", index);
                    return StepVerdict.Violation;
                }
        }

        if (r.Kasan > 0)
        {
            var k = m.Reports.Kasan[kasan0];
            violation = new Violation($"KASAN {k.Title} in {k.Function}", k.ToString(), index);
            return StepVerdict.Violation;
        }

        if (r.Warns > 0)
        {
            var w = m.Reports.Warnings[warn0];
            if (Strict || step.Expect != "any" || !OnlyKnownWarnings(m, warn0))
            {
                violation = new Violation($"WARN in {w.Function}", w.ToString(), index);
                return StepVerdict.Violation;
            }

            LastWarnKnown = true;
        }

        if (r.Status == SessionStatus.Failed && !LastWarnKnown)
        {
            var what = step.Teardown ? "leak" : "expectation";
            violation = new Violation($"{what}: {step.Op} => {step.Expect}", $"{step.Statement} returned {ValueFormat.Result(r.Result!)}, expected {step.Expect}", index);
            return StepVerdict.Violation;
        }

        if (_checkInvariants)
        {
            var v = m.Invariants.CheckAllQuick();
            if (v.Count > 0)
            {
                var colon = v[0].IndexOf(':', StringComparison.Ordinal);
                violation = new Violation("invariant " + (colon > 0 ? v[0][..colon] : v[0]), string.Join("\n", v), index) { Witness = "check" };
                return StepVerdict.Violation;
            }
        }

        if (r.Result is { Kind: StepKind.Errno } res && FailsAtomically(step.Op, res.Errno))
        {
            if (m.PageAlloc.NrFreePages != free0)
            {
                violation = new Violation($"{step.Op} => {res.Errno} changed free_pages",
                    $"{step.Statement} failed with {res.Errno} but free_pages went from {free0} to {m.PageAlloc.NrFreePages}", index)
                {
                    Witness = "stat free_pages => " + free0.ToString(System.Globalization.CultureInfo.InvariantCulture),
                };
                return StepVerdict.Violation;
            }

            if (subject is not null && !subject.Exited && (subject.Mm?.MapCount ?? 0) != vmas0)
            {
                violation = new Violation($"{step.Op} => {res.Errno} changed the VMAs",
                    $"{step.Statement} failed with {res.Errno} but {step.Subject} went from {vmas0} to {subject.Mm?.MapCount ?? 0} VMAs", index)
                {
                    Witness = $"stat vmas {step.Subject} => {vmas0}",
                };
                return StepVerdict.Violation;
            }
        }

        return StepVerdict.Ok;
    }

    // Every warning since warn0 is one the real kernel of the profile hits from user space too.
    private static bool OnlyKnownWarnings(Machine m, int warn0)
    {
        var known = m.Profile.KnownUserReachableWarnings;
        for (var i = warn0; i < m.Reports.WarnCount; i++)
        {
            if (!known.Contains(m.Reports.Warnings[i].Function))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Whether a call that failed with <paramref name="errno"/> must have left the state as it was. Linux's mprotect
    /// applies the change VMA by VMA and stops at the first hole or failure (what it changed stays changed), and an
    /// mremap with MREMAP_FIXED unmaps the target before it looks at the old range (mremap_to), and an ENOMEM may
    /// come after work that the kernel does not undo (a VMA split, page tables): those are exempt.
    /// </summary>
    internal static bool FailsAtomically(string op, Kernel.Errno errno) =>
        op is not ("mprotect" or "mremap") && errno != Kernel.Errno.ENOMEM;

    /// <summary>Run a whole sequence from a fresh machine: the first violation, or null (also when a step is invalid).</summary>
    public static Violation? Replay(string machineLine, OpRegistry registry, IReadOnlyList<CheckStep> steps, out bool invalid, bool strict = false)
    {
        invalid = false;
        var ex = new SequenceExecutor(machineLine, registry) { Strict = strict };
        for (var i = 0; i < steps.Count; i++)
        {
            switch (ex.Run(steps[i], i, out var v))
            {
                case StepVerdict.Violation:
                    return v;
                case StepVerdict.Invalid:
                    invalid = true;
                    return null;
            }
        }

        return null;
    }
}
