using MmSim.Kernel;

namespace MmSim.Scenario;

/// <summary>What happened to one statement run by a <see cref="ScenarioSession"/>.</summary>
public enum SessionStatus
{
    /// <summary>The statement ran and its expectation held.</summary>
    Held,

    /// <summary>The statement ran and its expectation failed (exit 1 in <c>mmsim run</c>).</summary>
    Failed,

    /// <summary>The line did not parse (exit 2): nothing ran.</summary>
    ParseError,

    /// <summary>A semantic error stopped the run (exit 2): an unbound name, a value out of range, an op not implemented.</summary>
    ScenarioError,

    /// <summary>An exception escaped the simulator (exit 3): a simulator bug.</summary>
    InternalError,
}

/// <summary>The outcome of one statement of a <see cref="ScenarioSession"/>.</summary>
/// <param name="Status">Whether it held, failed or stopped the run.</param>
/// <param name="Result">The handler's result (null when the statement did not run to a result).</param>
/// <param name="Kasan">KASAN reports the step produced.</param>
/// <param name="Warns">WARN_ONs the step produced.</param>
/// <param name="Message">The diagnostic of a parse, scenario or internal error.</param>
/// <param name="Exception">The exception of an internal error.</param>
public sealed record SessionStep(SessionStatus Status, StepResult? Result, int Kasan, int Warns, string? Message, Exception? Exception);

/// <summary>
/// A scenario run one line at a time on a live machine: each line is parsed with the file's name table and run by
/// the same code as <c>mmsim run</c> (<see cref="ScenarioRunner"/>), so that a sequence of lines run here and the
/// same lines written to a file and run by <c>mmsim run</c> give the same results, step for step. The checker
/// (<c>mmsim check</c>) drives the machine this way and writes its counterexamples as those lines.
/// </summary>
public sealed class ScenarioSession
{
    private readonly Parser _parser;
    private readonly DiagnosticBag _diags;
    private readonly ScenarioRunner.FileRun _run;
    private int _line;
    private bool _stopped;

    /// <summary>
    /// Start a session whose first line is <paramref name="machineLine"/> (a <c>machine</c> statement, or null for
    /// the defaults). The transcript goes to <paramref name="transcript"/> (TextWriter.Null: none, and no formatting).
    /// </summary>
    public ScenarioSession(string path, string? machineLine, RunnerOptions? options = null, TextWriter? transcript = null)
    {
        options ??= new RunnerOptions { Summary = false };
        _diags = new DiagnosticBag(path);
        _parser = Parser.Incremental(path, options.Registry, _diags);
        Statement? machine = null;
        if (machineLine is not null)
        {
            machine = _parser.ParseLine(machineLine, ++_line);
            if (machine is null || machine.Schema.Name != "machine")
            {
                throw new ArgumentException($"not a machine statement: {machineLine} {string.Join("; ", _diags.Items)}", nameof(machineLine));
            }
        }

        var runner = new ScenarioRunner(transcript ?? TextWriter.Null, TextWriter.Null, options);
        _run = new ScenarioRunner.FileRun(runner, _parser.File, _diags);
        _run.Open();
        if (machine is not null)
        {
            _run.Execute(machine);
        }
    }

    public Machine Machine => _run.State.Machine;

    /// <summary>The lines run so far (the machine line first, when given).</summary>
    public int Lines => _line;

    /// <summary>True once an error stopped the session: nothing more runs.</summary>
    public bool Stopped => _stopped;

    /// <summary>The scalar value bound to a name, if any.</summary>
    public ulong? ValueOf(string name) => _run.State.ValueOf(name);

    /// <summary>The object (process, program, tree) bound to a name, if any.</summary>
    public object? ObjectOf(string name) => _run.State.ObjectOf(name);

    /// <summary>Parse and run the next line.</summary>
    public SessionStep Execute(string line)
    {
        if (_stopped)
        {
            throw new InvalidOperationException("the session stopped at an error");
        }

        var n0 = _diags.Count;
        var st = _parser.ParseLine(line, ++_line);
        if (_diags.Count > n0)
        {
            _stopped = true;
            return new SessionStep(SessionStatus.ParseError, null, 0, 0, _diags.Items[n0].ToString(), null);
        }

        if (st is null)
        {
            return new SessionStep(SessionStatus.Held, StepResult.Done, 0, 0, null, null);
        }

        var exit = _run.Execute(st);
        var status = exit switch
        {
            ExitCodes.Ok => SessionStatus.Held,
            ExitCodes.Failed => SessionStatus.Failed,
            ExitCodes.Error => SessionStatus.ScenarioError,
            _ => SessionStatus.InternalError,
        };
        string? message = null;
        if (status is SessionStatus.ScenarioError or SessionStatus.InternalError)
        {
            _stopped = true;
            message = _diags.Count > n0 ? _diags.Items[^1].ToString() : null;
        }

        return new SessionStep(status, _run.LastResult, _run.LastKasan, _run.LastWarns, message, _run.LastException);
    }
}
