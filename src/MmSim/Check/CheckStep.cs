using System.Globalization;
using System.Text;

namespace MmSim.Check;

/// <summary>The kinds of argument value of a generated step.</summary>
public enum CheckArgKind
{
    /// <summary>A number: shrinks towards 0 and towards round values.</summary>
    Number,

    /// <summary>A bound name plus an offset (<c>a1 + 2p</c>): the offset shrinks towards 0.</summary>
    Ref,

    /// <summary>Text written as is (a prot, flag words, a process name): does not shrink.</summary>
    Text,
}

/// <summary>One argument of a generated step: positional (<see cref="Option"/> null) or <c>name=value</c>.</summary>
public sealed record CheckArg(string? Option, CheckArgKind Kind, ulong Number = 0, string? Text = null, long Offset = 0)
{
    public static CheckArg Num(ulong v, string? option = null) => new(option, CheckArgKind.Number, Number: v);

    public static CheckArg Ref(string name, long offset = 0, string? option = null) => new(option, CheckArgKind.Ref, Text: name, Offset: offset);

    public static CheckArg Word(string text, string? option = null) => new(option, CheckArgKind.Text, Text: text);

    /// <summary>The value as the scenario language writes it.</summary>
    public string Value => Kind switch
    {
        CheckArgKind.Number => FormatNumber(Number),
        CheckArgKind.Ref when Offset == 0 => Text!,
        CheckArgKind.Ref when Offset > 0 => Text + " + " + FormatNumber((ulong)Offset),
        CheckArgKind.Ref => Text + " - " + FormatNumber(Offset == long.MinValue ? 1UL << 63 : (ulong)-Offset),
        _ => Text!,
    };

    public override string ToString() => Option is null ? Value : Option + "=" + Value;

    /// <summary>A number as the checker writes it: pages with <c>p</c>, small values in decimal, others in hex.</summary>
    public static string FormatNumber(ulong v)
    {
        if (v != 0 && v % 4096 == 0 && v / 4096 <= 0x10000)
        {
            return (v / 4096).ToString(CultureInfo.InvariantCulture) + "p";
        }

        return v < 0x10000 ? v.ToString(CultureInfo.InvariantCulture) : "0x" + v.ToString("x", CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// One generated step: a statement of the scenario language in structured form, <c>[SUBJECT:] [BIND =] OP ARGS
/// =&gt; EXPECT</c>. It prints as the scenario line that the checker runs and that the counterexample file holds,
/// and its numeric arguments can be shrunk one at a time.
/// </summary>
public sealed record CheckStep(string? Subject, string? Bind, string Op, IReadOnlyList<CheckArg> Args, string Expect = "any")
{
    /// <summary>A comment printed after the statement in a counterexample (not part of the statement).</summary>
    public string? Comment { get; init; }

    /// <summary>True for the steps of a sequence's leak-free teardown (exits and the final accounting).</summary>
    public bool Teardown { get; init; }

    /// <summary>The names this step's arguments refer to (bound by earlier steps).</summary>
    public IEnumerable<string> Uses()
    {
        if (Subject is not null)
        {
            yield return Subject;
        }

        foreach (var a in Args)
        {
            if (a.Kind == CheckArgKind.Ref)
            {
                yield return a.Text!;
            }
            else if (a.Kind == CheckArgKind.Text && a.Option == "maps")
            {
                foreach (var m in a.Text!.Split(','))
                {
                    yield return m;
                }
            }
        }

        if (Expect.Length > 0 && char.IsLower(Expect[0]) && Expect is not ("any" or "ok" or "null"))
        {
            yield return Expect;
        }
    }

    /// <summary>The names this step binds: its BIND, and the new process of spawn/fork.</summary>
    public IEnumerable<string> Binds()
    {
        if (Bind is not null)
        {
            yield return Bind;
        }

        if (Op is "spawn" or "fork" && Args.Count > 0)
        {
            yield return Args[0].Text!;
        }
    }

    private StringBuilder StatementBuilder()
    {
        var sb = new StringBuilder(64);
        if (Subject is not null)
        {
            sb.Append(Subject).Append(": ");
        }

        if (Bind is not null)
        {
            sb.Append(Bind).Append(" = ");
        }

        sb.Append(Op);
        foreach (var a in Args)
        {
            sb.Append(' ');
            if (a.Option is not null)
            {
                sb.Append(a.Option).Append('=');
            }

            sb.Append(a.Value);
        }

        return sb;
    }

    /// <summary>The statement without its outcome.</summary>
    public string Statement => StatementBuilder().ToString();

    /// <summary>The scenario line: the statement and its expected outcome.</summary>
    public string Line => Expect == "ok" ? Statement : StatementBuilder().Append(" => ").Append(Expect).ToString();

    public CheckStep WithArg(int i, CheckArg a)
    {
        var args = Args.ToArray();
        args[i] = a;
        return this with { Args = args };
    }

    public override string ToString() => Line;
}
