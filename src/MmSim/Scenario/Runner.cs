using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Scenario;

/// <summary>Exit codes of <c>mmsim run</c> (and of a file run).</summary>
public static class ExitCodes
{
    /// <summary>Every expectation held.</summary>
    public const int Ok = 0;

    /// <summary>Some expectation failed (the file ran to its end).</summary>
    public const int Failed = 1;

    /// <summary>A syntax or semantic error in a file (a diagnostic was printed).</summary>
    public const int Error = 2;

    /// <summary>The simulator itself failed (an exception escaped a handler): a bug to report.</summary>
    public const int Internal = 3;
}

/// <summary>Options of a <see cref="ScenarioRunner"/>.</summary>
public sealed record RunnerOptions
{
    public OpRegistry Registry { get; init; } = OpRegistry.Default;

    /// <summary>Where the machine's tracepoints go.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Print <c>##</c> narration lines as the run reaches them (mmsim demo).</summary>
    public bool Narrate { get; init; }

    /// <summary>Print a summary line after each file.</summary>
    public bool Summary { get; init; } = true;
}

/// <summary>The result of running one file.</summary>
public sealed record FileRunResult(string File, int ExitCode, int Steps, IReadOnlyList<int> FailedLines, IReadOnlyList<Diagnostic> Diagnostics);

/// <summary>
/// Runs scenario files: parses a whole file first (any syntax error: exit 2, nothing runs), then executes its
/// statements in order on a fresh machine, printing the transcript to the output writer and diagnostics to the
/// error writer. A failed expectation does not stop the file (the transcript stays complete); a semantic error
/// found while running (an op not implemented yet, a value out of range) stops it with exit 2.
/// </summary>
public sealed class ScenarioRunner
{
    private readonly TextWriter _err;
    private readonly Transcript _transcript;
    private readonly RunnerOptions _options;

    public ScenarioRunner(TextWriter output, TextWriter errors, RunnerOptions? options = null)
    {
        _err = errors;
        _transcript = new Transcript(output);
        _options = options ?? new RunnerOptions();
    }

    /// <summary>Run each file from a fresh machine; the exit code is the worst of the files'.</summary>
    public int Run(IEnumerable<string> paths)
    {
        var exit = ExitCodes.Ok;
        foreach (var p in paths)
        {
            exit = Math.Max(exit, RunFile(p).ExitCode);
        }

        return exit;
    }

    public FileRunResult RunFile(string path)
    {
        string text;
        try
        {
            text = System.IO.File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            var d = new Diagnostic(path, 0, 0, "cannot read the file: " + e.Message);
            _err.Write(d + "\n");
            return new FileRunResult(path, ExitCodes.Error, 0, [], [d]);
        }

        return RunText(path, text);
    }

    /// <summary>Run scenario text; <paramref name="path"/> names it in diagnostics and the transcript.</summary>
    public FileRunResult RunText(string path, string text)
    {
        var diags = new DiagnosticBag(path);
        ScenarioFile file;
        try
        {
            file = Parser.Parse(path, text, _options.Registry, diags);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var d = new Diagnostic(path, 0, 0, $"internal error while parsing: {e.GetType().Name}: {e.Message}");
            _err.Write(d + "\n" + e + "\n");
            return new FileRunResult(path, ExitCodes.Internal, 0, [], [d]);
        }

        if (diags.HasErrors)
        {
            foreach (var d in diags.Items)
            {
                _err.Write(d + "\n");
            }

            return new FileRunResult(path, ExitCodes.Error, 0, [], diags.Items);
        }

        return new FileRun(this, file, diags).Run();
    }

    /// <summary>One file's execution (also one <see cref="ScenarioSession"/>, a step at a time).</summary>
    internal sealed class FileRun
    {
        private readonly ScenarioRunner _r;
        private readonly ScenarioFile _file;
        private readonly DiagnosticBag _diags;
        private readonly List<int> _failed = [];
        private ScenarioState _state = null!;
        private int _steps;
        private int _narrated;

        /// <summary>The last step's result (null when it did not run to a result).</summary>
        public StepResult? LastResult { get; private set; }

        /// <summary>The KASAN reports and WARNs of the last step.</summary>
        public int LastKasan { get; private set; }

        public int LastWarns { get; private set; }

        /// <summary>The exception that escaped the last step's handler (an internal error), if any.</summary>
        public Exception? LastException { get; private set; }

        public ScenarioState State => _state;

        public int FailedCount => _failed.Count;

        public FileRun(ScenarioRunner runner, ScenarioFile file, DiagnosticBag diags)
        {
            _r = runner;
            _file = file;
            _diags = diags;
        }

        private Transcript T => _r._transcript;

        private string Path => _file.Path;

        public FileRunResult Run()
        {
            int exit;
            var stopped = false;
            try
            {
                exit = RunAll();
            }
            catch (StopException stop)
            {
                exit = stop.ExitCode;
                stopped = true;
            }

            if (_r._options.Narrate && !stopped)
            {
                Narrate(int.MaxValue);
            }

            if (_r._options.Summary)
            {
                var steps = _steps == 1 ? "1 step" : _steps + " steps";
                T.Line(exit switch
                {
                    ExitCodes.Ok => $"{Path}: {steps}, all held",
                    ExitCodes.Failed => $"{Path}: {steps}, {_failed.Count} failed (line{(_failed.Count == 1 ? "" : "s")} {string.Join(", ", _failed)})",
                    _ => $"{Path}: {steps}, stopped by an error" + (_failed.Count > 0 ? $" ({_failed.Count} failed before it)" : ""),
                });
            }

            return new FileRunResult(Path, exit, _steps, _failed, _diags.Items);
        }

        private int RunAll()
        {
            Machine machine;
            try
            {
                machine = BuildMachine(_file.Machine);
            }
            catch (Exception e) when (e is not StopException && _file.Statements.Count > 0)
            {
                throw Internal(_file.Statements[0], e);
            }

            _state = new ScenarioState(Path, machine);
            foreach (var st in _file.Statements)
            {
                if (_r._options.Narrate)
                {
                    Narrate(st.Line);
                }

                RunStatement(st);
            }

            return _failed.Count > 0 ? ExitCodes.Failed : ExitCodes.Ok;
        }

        /// <summary>Build the machine from the file's machine statement (a session's start).</summary>
        public void Open() => _state = new ScenarioState(Path, BuildMachine(_file.Machine));

        /// <summary>
        /// Run one statement on the live state: the exit code it leaves the file with (<see cref="ExitCodes.Ok"/>,
        /// <see cref="ExitCodes.Failed"/> when its expectation failed, or the code of the error that stopped it).
        /// </summary>
        public int Execute(Statement st)
        {
            var failed = _failed.Count;
            try
            {
                RunStatement(st);
            }
            catch (StopException stop)
            {
                return stop.ExitCode;
            }

            return _failed.Count > failed ? ExitCodes.Failed : ExitCodes.Ok;
        }

        private void Narrate(int beforeLine)
        {
            while (_narrated < _file.Narrations.Count && _file.Narrations[_narrated].Line < beforeLine)
            {
                T.Narration(_file.Narrations[_narrated++].Text);
            }
        }

        private Machine BuildMachine(Statement? st)
        {
            var config = new MachineConfig { LoggerFactory = _r._options.LoggerFactory };
            if (st is not null)
            {
                foreach (var a in st.Args)
                {
                    var name = a.Spec.Name;
                    switch (name)
                    {
                        case "ram":
                            {
                                var v = Constant(st, a);
                                if (v < 16 * K.PAGE_SIZE || v > 16UL << 30)
                                {
                                    throw Error(st, a.Column, $"ram={ValueFormat.Number(v)} is out of range: a machine has 64K to 16G of memory");
                                }

                                if (!K.PageAligned(v))
                                {
                                    throw Error(st, a.Column, $"ram={ValueFormat.Number(v)} is not a whole number of pages (4096 bytes)");
                                }

                                config = config with { RamBytes = v };
                                break;
                            }

                        case "cpus":
                            {
                                var v = Constant(st, a);
                                if (v is < 1 or > 256)
                                {
                                    throw Error(st, a.Column, $"cpus={ValueFormat.Signed(v)} is out of range (1..256)");
                                }

                                config = config with { Cpus = (int)v };
                                break;
                            }

                        case "memcg":
                            config = config with { MemcgLimit = a.Word is not null ? null : Constant(st, a) };
                            break;
                        case "seed":
                            config = config with { Seed = Constant(st, a) };
                            break;
                        case "kernel":
                            KernelProfile.TryGet(a.Word!, out var profile);
                            config = config with { Profile = profile };
                            break;
                        default:
                            throw new InvalidOperationException("machine option " + name);
                    }
                }
            }

            var m = new Machine(config);
            ScenarioLog.MachineBuilt(m.Log.Scenario, Path, config.RamBytes, config.Cpus,
                config.MemcgLimit is { } l ? l.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unlimited",
                config.Seed, config.Profile.Name);
            return m;
        }

        private ulong Constant(Statement st, ArgNode a)
        {
            if (!a.Expr!.TryEvaluate(_ => null, out var v, out var error, out var col))
            {
                throw Error(st, col, error);
            }

            return v;
        }

        private void RunStatement(Statement st)
        {
            ScenarioLog.Step(_state.Machine.Log.Scenario, Path, st.Line, st.Text);
            _steps++;
            LastResult = null;
            LastKasan = 0;
            LastWarns = 0;
            LastException = null;
            if (st.Schema.Name == "machine" && st.Scope == OpScope.Global)
            {
                T.Step(Path, st, "", "ok");
                return;
            }

            object? subject = null;
            if (st.Subject is not null)
            {
                subject = _state.ObjectOf(st.Subject);
                if (subject is null)
                {
                    NotBound(st, st.Subject, st.SubjectColumn);
                    return;
                }

                if (subject is TaskStruct { Exited: true })
                {
                    throw Error(st, st.SubjectColumn, $"process '{st.Subject}' has exited");
                }
            }

            var args = new Dictionary<string, ArgValue>(st.Args.Count, StringComparer.Ordinal);
            foreach (var a in st.Args)
            {
                var v = Evaluate(st, a);
                if (v is null)
                {
                    return;
                }

                args[a.Spec.Name] = v;
            }

            var handler = _r._options.Registry.FindHandler(st.Scope, st.Schema.Name)
                ?? throw Error(st, st.OpColumn, $"'{st.Schema.Name}' is not implemented yet");
            var machine = _state.Machine;
            var kasan0 = machine.Reports.KasanCount;
            var warn0 = machine.Reports.WarnCount;
            var task = subject as TaskStruct;
            var sig0 = task?.Signals.Count ?? 0;
            var ctx = new OpContext(_state, st, subject, args);
            StepResult result;
            try
            {
                result = handler(ctx);
                machine.SyscallExit();
            }
            catch (ScenarioException e)
            {
                throw Error(st, e.Column > 0 ? e.Column : st.OpColumn, e.Message);
            }
            catch (Exception e) when (e is not StopException)
            {
                throw Internal(st, e);
            }

            if (result.Kind == StepKind.ScenarioError)
            {
                throw Error(st, result.Column > 0 ? result.Column : st.OpColumn, result.Message);
            }

            if (task is not null && task.Signals.Count > sig0 && result.Kind != StepKind.Signal)
            {
                result = StepResult.Sig(task.Signals[^1].Signo);
            }

            List<KasanReport>? kasan = machine.Reports.KasanCount == kasan0 ? null : machine.Reports.Kasan.Skip(kasan0).ToList();
            List<WarnReport>? warns = machine.Reports.WarnCount == warn0 ? null : machine.Reports.Warnings.Skip(warn0).ToList();
            LastResult = result;
            LastKasan = kasan?.Count ?? 0;
            LastWarns = warns?.Count ?? 0;
            if (!TryExpected(st, out var expected))
            {
                return;
            }

            var held = Holds(st.Outcome, expected, result, kasan is not null, warns is not null);
            Bind(st, result, held);
            if (!held)
            {
                _failed.Add(st.Line);
            }

            if (!T.Enabled)
            {
                // No transcript (the checker's sessions): nothing below would be written, so nothing is formatted.
                return;
            }

            var actual = ValueFormat.Result(result);
            if (kasan is not null)
            {
                actual = (actual + " KASAN").TrimStart();
            }

            if (warns is not null)
            {
                actual = (actual + " WARN").TrimStart();
            }

            T.Step(Path, st, actual, held ? "ok" : $"FAIL (expected {ExpectedText(st.Outcome, expected)})");
            foreach (var k in kasan ?? [])
            {
                T.Detail(k.ToString());
            }

            foreach (var w in warns ?? [])
            {
                T.Detail(w.ToString());
            }

            foreach (var v in result.Lines)
            {
                T.Detail(v);
            }

            if (result.Kind == StepKind.Text)
            {
                T.View(result.Text);
            }
        }

        private void Bind(Statement st, StepResult result, bool held)
        {
            if (st.BindName is not null)
            {
                if (result.HasValue || result.Object is not null)
                {
                    _state.BindResult(st.BindName, result, st.Line);
                }
                else
                {
                    _state.MarkUnbound(st.BindName, new Unbound(st.Line, !held, Describe(result)));
                }
            }

            foreach (var n in st.NewNames)
            {
                if (_state.ObjectOf(n) is null)
                {
                    _state.MarkUnbound(n, new Unbound(st.Line, !held, Describe(result)));
                }
            }
        }

        private static string Describe(StepResult r)
        {
            var s = ValueFormat.Result(r);
            return s.Length == 0 ? "no value" : s;
        }

        /// <summary>A name the step needs has no binding: a failure when its step failed, else an error.</summary>
        private void NotBound(Statement st, string name, int column)
        {
            var why = _state.WhyUnbound(name);
            if (why is { StepFailed: true })
            {
                _failed.Add(st.Line);
                T.Step(Path, st, "", $"FAIL (not run: '{name}' has no value because {Path}:{why.Line} failed)");
                return;
            }

            if (_state.IsBound(name) && _state.ObjectOf(name) is null && st.Subject == name)
            {
                throw Error(st, column, $"'{name}' holds a value but no {st.Scope.ToString().ToLowerInvariant()} object: the statement that bound it attached none");
            }

            var detail = why is null ? "" : $": {Path}:{why.Line} returned {why.Actual}";
            throw Error(st, column, _state.HasListValue(name) ? $"'{name}' holds a list, not a value" : $"'{name}' has no value{detail}");
        }

        private ArgValue? Evaluate(Statement st, ArgNode a)
        {
            switch (a.Spec.Kind)
            {
                case ArgKind.Expr:
                case ArgKind.ExprOrWord when a.Word is null:
                    return Eval(st, a.Expr!, out var v) ? new ArgValue(a) { Value = v, Single = true } : null;
                case ArgKind.List:
                case ArgKind.ExprOrList:
                    {
                        var list = new ulong[a.List!.Count];
                        for (var i = 0; i < list.Length; i++)
                        {
                            if (!Eval(st, a.List[i], out list[i]))
                            {
                                return null;
                            }
                        }

                        return new ArgValue(a) { Value = list[0], List = list };
                    }

                case ArgKind.Flags:
                    return new ArgValue(a)
                    {
                        Value = a.Bits,
                        Words = FlagWords(a.Flags!),
                    };
                case ArgKind.ProcessRef:
                    {
                        var obj = _state.ObjectOf(a.Word!);
                        if (obj is null)
                        {
                            NotBound(st, a.Word!, a.Column);
                            return null;
                        }

                        return new ArgValue(a) { Word = a.Word, Object = obj };
                    }

                default:
                    return new ArgValue(a) { Value = a.Bits, Word = a.Word };
            }
        }

        // The words of a flags argument as written, numbers left out.
        private static string[] FlagWords(IReadOnlyList<FlagItem> flags)
        {
            var n = 0;
            foreach (var f in flags)
            {
                n += f.Word is null ? 0 : 1;
            }

            var words = new string[n];
            n = 0;
            foreach (var f in flags)
            {
                if (f.Word is not null)
                {
                    words[n++] = f.Word;
                }
            }

            return words;
        }

        private bool Eval(Statement st, Expr e, out ulong value)
        {
            string? missing = null;
            var missingCol = 0;
            var ok = e.TryEvaluate(
                t =>
                {
                    var v = _state.ValueOf(t.Name!);
                    if (v is null && missing is null)
                    {
                        missing = t.Name;
                        missingCol = t.Column;
                    }

                    return v;
                },
                out value,
                out var error,
                out var col);
            if (ok)
            {
                return true;
            }

            if (missing is not null)
            {
                NotBound(st, missing, missingCol);
                return false;
            }

            throw Error(st, col, error);
        }

        private bool TryExpected(Statement st, out IReadOnlyList<ulong> expected)
        {
            var list = new ulong[st.Outcome.Exprs.Count];
            expected = list;
            for (var i = 0; i < list.Length; i++)
            {
                if (!Eval(st, st.Outcome.Exprs[i], out list[i]))
                {
                    return false;
                }
            }

            return true;
        }

        private static bool Holds(OutcomeNode o, IReadOnlyList<ulong> expected, StepResult r, bool kasan, bool warn)
        {
            switch (o.Kind)
            {
                case OutcomeKind.Kasan:
                    return kasan;
                case OutcomeKind.Warn:
                    return warn && !kasan;
            }

            if (kasan || warn)
            {
                return false;
            }

            return o.Kind switch
            {
                OutcomeKind.Any => true,
                OutcomeKind.Ok => r.IsSuccess,
                OutcomeKind.Null => r.Kind == StepKind.Null,
                OutcomeKind.Errno => r.Kind == StepKind.Errno && r.Errno == o.Errno,
                OutcomeKind.Signal => r.Kind == StepKind.Signal && r.Signal == o.Signal,
                OutcomeKind.Value or OutcomeKind.List => r.Kind switch
                {
                    StepKind.Value => expected.Count == 1 && expected[0] == r.Value,
                    StepKind.List => expected.SequenceEqual(r.List),
                    _ => false,
                },
                _ => false,
            };
        }

        private static string ExpectedText(OutcomeNode o, IReadOnlyList<ulong> expected)
        {
            if (o.Kind is not (OutcomeKind.Value or OutcomeKind.List))
            {
                return o.Text;
            }

            var values = ValueFormat.List(expected);
            return values == o.Text.Replace(" ", "", StringComparison.Ordinal) ? o.Text : $"{o.Text} = {values}";
        }

        private StopException Error(Statement st, int column, string message)
        {
            var d = new Diagnostic(Path, st.Line, column, message);
            return Stop(st, d, ExitCodes.Error, message);
        }

        private StopException Internal(Statement st, Exception e)
        {
            LastException = e;
            var d = new Diagnostic(Path, st.Line, st.OpColumn, $"internal error: {e.GetType().Name}: {e.Message}");
            var stop = Stop(st, d, ExitCodes.Internal, "internal error");
            _r._err.Write(e + "\n");
            return stop;
        }

        private StopException Stop(Statement st, Diagnostic d, int exit, string what)
        {
            _diags.Add(d.Line, d.Column, d.Message);
            T.Step(Path, st, "", "ERROR (" + what + ")");
            _r._err.Write(d + "\n");
            return new StopException(exit);
        }
    }

    /// <summary>Stops a file's run (after its diagnostic has been printed).</summary>
    private sealed class StopException : Exception
    {
        public StopException(int exitCode)
            : base("scenario stopped") => ExitCode = exitCode;

        public int ExitCode { get; }
    }
}
