namespace MmSim.Scenario;

/// <summary>One flag of a flag set: a word from the table (with its value) or a number literal.</summary>
public sealed record FlagItem(string? Word, ulong Value, int Column);

/// <summary>One argument as written: which spec it fills, where it is, and its parsed form.</summary>
public sealed class ArgNode
{
    public ArgNode(ArgSpec spec, int column, int nameColumn)
    {
        Spec = spec;
        Column = column;
        NameColumn = nameColumn;
    }

    public ArgSpec Spec { get; }

    /// <summary>Column of the value.</summary>
    public int Column { get; }

    /// <summary>Column of <c>name=</c> for an option; the value's column for a positional argument.</summary>
    public int NameColumn { get; }

    /// <summary>Expr, Size; ExprOrWord when not a word.</summary>
    public Expr? Expr { get; init; }

    /// <summary>List; ExprOrList (a single expression is a one-element list that is not <see cref="IsList"/>).</summary>
    public IReadOnlyList<Expr>? List { get; init; }

    /// <summary>True when written with commas.</summary>
    public bool IsList { get; init; }

    /// <summary>Flags: the items.</summary>
    public IReadOnlyList<FlagItem>? Flags { get; init; }

    /// <summary>Word, ExprOrWord (when a word), ProcessRef, NewProcess, NewTree, Profile: the word as written.</summary>
    public string? Word { get; init; }

    /// <summary>Prot, Flags, Word, Size: the value the words stand for.</summary>
    public ulong Bits { get; init; }
}

/// <summary>The kinds of expected outcome (<c>=&gt; OUTCOME</c>).</summary>
public enum OutcomeKind
{
    Ok,
    Any,
    Null,
    Kasan,
    Warn,
    Errno,
    Signal,
    Value,
    List,
}

/// <summary>An expected outcome as written.</summary>
public sealed record OutcomeNode(OutcomeKind Kind, int Column, string Text)
{
    /// <summary>Errno outcomes.</summary>
    public Kernel.Errno Errno { get; init; }

    /// <summary>Signal outcomes.</summary>
    public Vm.Signal Signal { get; init; }

    /// <summary>Value (one element) and List outcomes.</summary>
    public IReadOnlyList<Expr> Exprs { get; init; } = [];

    /// <summary>The implicit <c>=&gt; ok</c> of a statement written without an outcome.</summary>
    public static OutcomeNode DefaultOk { get; } = new(OutcomeKind.Ok, 0, "ok");
}

/// <summary>One statement: <c>[SUBJECT:] [NAME =] op ARGS [=&gt; OUTCOME]</c>.</summary>
public sealed class Statement
{
    public Statement(int line, OpSchema schema, int column, int opColumn)
    {
        Line = line;
        Schema = schema;
        Column = column;
        OpColumn = opColumn;
    }

    public int Line { get; }

    /// <summary>Column where the statement starts.</summary>
    public int Column { get; }

    /// <summary>Column of the op name.</summary>
    public int OpColumn { get; }

    public OpSchema Schema { get; }

    public OpScope Scope => Schema.Scope;

    /// <summary>The process, program or tree name before the colon; null for a global statement.</summary>
    public string? Subject { get; init; }

    public int SubjectColumn { get; init; }

    /// <summary>The NAME of <c>NAME = statement</c>.</summary>
    public string? BindName { get; init; }

    public int BindColumn { get; init; }

    /// <summary>Positional arguments in order, then options in the order written.</summary>
    public List<ArgNode> Args { get; } = [];

    public OutcomeNode Outcome { get; set; } = OutcomeNode.DefaultOk;

    /// <summary>True when the statement was written with <c>=&gt; OUTCOME</c>.</summary>
    public bool HasOutcome { get; set; }

    /// <summary>The statement as written, without comment and outcome, whitespace collapsed (for the transcript).</summary>
    public string Text { get; set; } = "";

    /// <summary>Names this statement binds through NewProcess/NewTree arguments.</summary>
    public IEnumerable<string> NewNames
    {
        get
        {
            foreach (var a in Args)
            {
                if (a.Spec.Kind is ArgKind.NewProcess or ArgKind.NewTree)
                {
                    yield return a.Word!;
                }
            }
        }
    }

    public override string ToString() => $"{Line}: {Text}";
}

/// <summary>A <c>##</c> comment line: narration printed by <c>mmsim demo</c>.</summary>
public sealed record Narration(int Line, string Text);

/// <summary>A parsed scenario: its statements in order, plus narration lines.</summary>
public sealed class ScenarioFile
{
    public ScenarioFile(string path) => Path = path;

    /// <summary>The file name used in diagnostics and the transcript, as given.</summary>
    public string Path { get; }

    public List<Statement> Statements { get; } = [];

    public List<Narration> Narrations { get; } = [];

    /// <summary>The <c>machine</c> statement, when the file starts with one.</summary>
    public Statement? Machine => Statements.Count > 0 && Statements[0].Schema.Name == "machine" ? Statements[0] : null;
}
