using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Scenario;

/// <summary>The kinds of result a statement handler returns.</summary>
public enum StepKind
{
    /// <summary>Success without a value (spawn, inject, tree ...).</summary>
    Done,

    /// <summary>Success with a 64-bit value (an address, an fd, a counter ...).</summary>
    Value,

    /// <summary>Success with a list (per-CPU values, one per possible CPU).</summary>
    List,

    /// <summary>Success with no entry (a tree load or erase that found nothing; a NULL page).</summary>
    Null,

    /// <summary>Failure with a Linux errno.</summary>
    Errno,

    /// <summary>The access raised a signal in the process (it did not happen; the process lives on).</summary>
    Signal,

    /// <summary>Success, printing a view (show).</summary>
    Text,

    /// <summary>Invariant violations (check): a failed step.</summary>
    Violations,

    /// <summary>A semantic error in the scenario (exit 2): the runner prints a diagnostic and stops the file.</summary>
    ScenarioError,
}

/// <summary>
/// What a statement did. Handlers build one with the factory members: <see cref="Of(ulong)"/>,
/// <see cref="FromSyscall"/>, <see cref="Err"/>, <see cref="Sig"/>, <see cref="Null"/>, <see cref="Done"/>,
/// <see cref="Show"/>, <see cref="OfList"/>. A program (prog_load) attaches its object with
/// <see cref="WithObject"/> so that <c>NAME = prog_load ...</c> binds NAME as a <c>G:</c> subject.
/// </summary>
public sealed class StepResult
{
    private StepResult(StepKind kind) => Kind = kind;

    public StepKind Kind { get; private init; }

    public ulong Value { get; private init; }

    public IReadOnlyList<ulong> List { get; private init; } = [];

    public Errno Errno { get; private init; }

    public Signal Signal { get; private init; }

    /// <summary>Show: the view's text (lines ending in newlines).</summary>
    public string Text { get; private init; } = "";

    /// <summary>Violations: one line each.</summary>
    public IReadOnlyList<string> Lines { get; private init; } = [];

    /// <summary>ScenarioError: the message and the column it points at (0: the op).</summary>
    public string Message { get; private init; } = "";

    public int Column { get; private init; }

    /// <summary>An object bound together with the value (the program of prog_load).</summary>
    public object? Object { get; private init; }

    /// <summary>True for the kinds that count as success for <c>=&gt; ok</c>.</summary>
    public bool IsSuccess => Kind is StepKind.Done or StepKind.Value or StepKind.List or StepKind.Null or StepKind.Text;

    /// <summary>True when the result has a value that a name can hold.</summary>
    public bool HasValue => Kind is StepKind.Value or StepKind.List;

    public static StepResult Done { get; } = new(StepKind.Done);

    public static StepResult Null { get; } = new(StepKind.Null);

    public static StepResult Of(ulong value) => new(StepKind.Value) { Value = value };

    public static StepResult Of(long value) => new(StepKind.Value) { Value = unchecked((ulong)value) };

    public static StepResult OfList(IReadOnlyList<ulong> values) => new(StepKind.List) { List = values.ToArray() };

    public static StepResult Err(Errno errno) => new(StepKind.Errno) { Errno = errno };

    public static StepResult Sig(Signal signal) => new(StepKind.Signal) { Signal = signal };

    public static StepResult Show(string text) => new(StepKind.Text) { Text = text };

    public static StepResult Violations(IReadOnlyList<string> lines) => new(StepKind.Violations) { Lines = lines.ToArray() };

    public static StepResult ScenarioError(string message, int column = 0) =>
        new(StepKind.ScenarioError) { Message = message, Column = column };

    /// <summary>A syscall's return: a negative errno (-4095..-1) is that error, anything else the value.</summary>
    public static StepResult FromSyscall(long ret) =>
        ErrnoExtensions.IsErr(ret) ? Err(ErrnoExtensions.ToErrno(ret)) : Of(ret);

    /// <summary>The same result, carrying <paramref name="obj"/> to bind with the value.</summary>
    public StepResult WithObject(object obj) => new(Kind)
    {
        Value = Value,
        List = List,
        Errno = Errno,
        Signal = Signal,
        Text = Text,
        Lines = Lines,
        Message = Message,
        Column = Column,
        Object = obj,
    };

    public override string ToString() => ValueFormat.Result(this);
}
