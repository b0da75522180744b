using System.Text;

namespace MmSim.Scenario;

/// <summary>Where a statement may appear: on its own line, or after <c>P:</c>, <c>G:</c> or <c>T:</c>.</summary>
public enum OpScope
{
    /// <summary><c>machine</c>, <c>spawn</c>, <c>check</c>, <c>show ...</c>, <c>inject ...</c>, <c>stat ...</c>, <c>tree</c>.</summary>
    Global,

    /// <summary><c>P: op ...</c>, where P is a process (spawn, fork).</summary>
    Process,

    /// <summary><c>G: op ...</c>, where G is a program fd bound by <c>prog_load</c>.</summary>
    Program,

    /// <summary><c>T: op ...</c>, where T is a tree (<c>tree T</c>).</summary>
    Tree,
}

/// <summary>How an argument is written and what a handler receives for it.</summary>
public enum ArgKind
{
    /// <summary>An expression: <c>a + 2p - 0x10</c>. Handler: <see cref="OpContext.U64(string)"/>.</summary>
    Expr,

    /// <summary>One or more expressions separated by commas: <c>1,2,3</c>. Handler: <see cref="OpContext.List(string)"/>.</summary>
    List,

    /// <summary>An expression, or a list (per-CPU values). Handler: <see cref="OpContext.IsList"/>, U64, List.</summary>
    ExprOrList,

    /// <summary><c>none</c> or <c>r</c> <c>w</c> <c>x</c> in that order (<c>rw</c>, <c>rx</c>, <c>rwx</c>), or a number: PROT_* bits.</summary>
    Prot,

    /// <summary>Words from a fixed table joined by <c>|</c> (a number may stand for raw bits): the OR of their values.</summary>
    Flags,

    /// <summary>One word from a fixed table (or a number, when the spec allows it).</summary>
    Word,

    /// <summary>One word from a fixed table, or else an expression (<c>memcg=64M</c> / <c>memcg=unlimited</c>).</summary>
    ExprOrWord,

    /// <summary>An access size: the literal 1, 2, 4 or 8.</summary>
    Size,

    /// <summary>The name of a process (<c>show maps P</c>, <c>stat vmas P</c>).</summary>
    ProcessRef,

    /// <summary>A new name that the statement binds to a process (<c>spawn P</c>, <c>fork C</c>).</summary>
    NewProcess,

    /// <summary>A new name that the statement binds to a tree (<c>tree T</c>).</summary>
    NewTree,

    /// <summary>A kernel profile name (<c>6.12.y</c>), checked against <see cref="Kernel.KernelProfile.All"/>.</summary>
    Profile,
}

/// <summary>What a statement's result can be bound to with <c>NAME = statement</c>.</summary>
public enum ResultKind
{
    /// <summary>The statement returns nothing to bind (spawn, check, show, inject, tree ...).</summary>
    None,

    /// <summary>A value: an address, an fd, a pointer, an index, a counter (or a list).</summary>
    Value,

    /// <summary>A program fd: the name is both a value and a <c>G:</c> subject (prog_load).</summary>
    Program,
}

/// <summary>A fixed word list with the value of each word (flag bits, map types ...).</summary>
public sealed class WordTable
{
    private readonly (string Word, ulong Value)[] _words;

    public WordTable(string name, params (string Word, ulong Value)[] words)
    {
        Name = name;
        _words = words;
    }

    /// <summary>What the words are, for diagnostics ("mmap flag").</summary>
    public string Name { get; }

    public IReadOnlyList<(string Word, ulong Value)> Words => _words;

    public bool TryGet(string word, out ulong value)
    {
        foreach (var (w, v) in _words)
        {
            if (w == word)
            {
                value = v;
                return true;
            }
        }

        value = 0;
        return false;
    }

    public string List(string separator = ", ") => string.Join(separator, _words.Select(w => w.Word));
}

/// <summary>One argument of a statement: positional (<c>munmap ADDR LEN</c>) or an option (<c>len=E</c>).</summary>
public sealed record ArgSpec(string Name, ArgKind Kind, bool Optional = false, WordTable? Words = null, bool AllowNumber = false)
{
    /// <summary>The placeholder shown in usage lines.</summary>
    public string Placeholder => Kind switch
    {
        ArgKind.Expr => "E",
        ArgKind.List => "E,E,...",
        ArgKind.ExprOrList => "E|E,E,...",
        ArgKind.Prot => "PROT",
        ArgKind.Flags => Words is { Words.Count: <= 3 } ? Words.List("|") : "FLAGS",
        ArgKind.Word => Words is { Words.Count: <= 4 } ? Words.List("|") : "WORD",
        ArgKind.ExprOrWord => "E|" + (Words?.List("|") ?? ""),
        ArgKind.Size => "1|2|4|8",
        ArgKind.ProcessRef => "PROC",
        ArgKind.NewProcess => "NEWPROC",
        ArgKind.NewTree => "NEWTREE",
        ArgKind.Profile => "PROFILE",
        _ => "?",
    };
}

/// <summary>
/// The schema of one statement: its scope, its name, its positional arguments and options, and what it returns.
/// The parser validates every statement against its schema, so a malformed line is a diagnostic with a precise
/// column even when no handler implements the statement yet. Global statements of the families <c>show</c>,
/// <c>stat</c> and <c>inject</c> have two-word names (<c>"stat free_pages"</c>).
/// </summary>
public sealed class OpSchema
{
    private readonly List<ArgSpec> _positional = [];
    private readonly List<ArgSpec> _options = [];

    public OpSchema(OpScope scope, string name, ResultKind result = ResultKind.Value)
    {
        Scope = scope;
        Name = name;
        Result = result;
    }

    public OpScope Scope { get; }

    /// <summary>The op name; a global family member is "family word" (<c>"show maps"</c>).</summary>
    public string Name { get; }

    public ResultKind Result { get; }

    public IReadOnlyList<ArgSpec> Positional => _positional;

    public IReadOnlyList<ArgSpec> Options => _options;

    /// <summary>Add a positional argument (optional ones must come last).</summary>
    public OpSchema Arg(string name, ArgKind kind, WordTable? words = null, bool optional = false, bool allowNumber = false)
    {
        if (!optional && _positional.Count > 0 && _positional[^1].Optional)
        {
            throw new ArgumentException($"{Name}: a required argument cannot follow an optional one", nameof(optional));
        }

        CheckName(name);
        _positional.Add(new ArgSpec(name, kind, optional, words, allowNumber));
        return this;
    }

    /// <summary>Add a <c>name=VALUE</c> option (optional unless <paramref name="required"/>).</summary>
    public OpSchema Option(string name, ArgKind kind, WordTable? words = null, bool required = false, bool allowNumber = false)
    {
        CheckName(name);
        _options.Add(new ArgSpec(name, kind, !required, words, allowNumber));
        return this;
    }

    public ArgSpec? FindOption(string name) => FindIn(_options, name);

    public ArgSpec? Find(string name) => FindIn(_positional, name) ?? FindOption(name);

    private static ArgSpec? FindIn(List<ArgSpec> specs, string name)
    {
        foreach (var o in specs)
        {
            if (o.Name == name)
            {
                return o;
            }
        }

        return null;
    }

    /// <summary>The usage line: <c>mmap len=E prot=PROT flags=FLAGS [addr=E] [fd=E] [off=E]</c>.</summary>
    public string Usage
    {
        get
        {
            var sb = new StringBuilder(Name);
            foreach (var p in _positional)
            {
                sb.Append(' ').Append(p.Optional ? "[" + p.Name.ToUpperInvariant() + "]" : p.Name.ToUpperInvariant());
            }

            foreach (var o in _options.Where(o => !o.Optional))
            {
                sb.Append(' ').Append(o.Name).Append('=').Append(o.Placeholder);
            }

            foreach (var o in _options.Where(o => o.Optional))
            {
                sb.Append(" [").Append(o.Name).Append('=').Append(o.Placeholder).Append(']');
            }

            return sb.ToString();
        }
    }

    public override string ToString() => Scope + " " + Usage;

    private void CheckName(string name)
    {
        if (Find(name) is not null)
        {
            throw new ArgumentException($"{Name}: argument '{name}' is declared twice", nameof(name));
        }
    }
}
