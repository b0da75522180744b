using System.Globalization;
using System.Text;

namespace MmSim.Scenario;

/// <summary>
/// How values are printed in the transcript: below 0x10000 in decimal, from 0x10000 up in lower-case hex with
/// <c>0x</c> (addresses, pointers, bit patterns such as -1 = 0xffffffffffffffff).
/// </summary>
public static class ValueFormat
{
    /// <summary>The threshold from which values print in hex.</summary>
    public const ulong HexFrom = 0x10000;

    public static string Number(ulong v) =>
        v < HexFrom ? v.ToString(CultureInfo.InvariantCulture) : "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>A value that may be a small negative number (error messages): -1 prints as -1.</summary>
    public static string Signed(ulong v)
    {
        var s = unchecked((long)v);
        return s < 0 && s > -(long)HexFrom ? s.ToString(CultureInfo.InvariantCulture) : Number(v);
    }

    public static string List(IReadOnlyList<ulong> values) => string.Join(",", values.Select(Number));

    /// <summary>The actual outcome of a step as printed after <c>=&gt;</c>; empty for a success without a value.</summary>
    public static string Result(StepResult r) => r.Kind switch
    {
        StepKind.Done or StepKind.Text => "",
        StepKind.Value => Number(r.Value),
        StepKind.List => List(r.List),
        StepKind.Null => "null",
        StepKind.Errno => r.Errno.ToString(),
        StepKind.Signal => r.Signal.ToString(),
        StepKind.Violations => r.Lines.Count == 1 ? "1 violation" : r.Lines.Count + " violations",
        StepKind.ScenarioError => "error: " + r.Message,
        _ => r.Kind.ToString(),
    };
}

/// <summary>
/// Writes the transcript: one line per step, <c>FILE:LINE: STATEMENT =&gt; ACTUAL VERDICT</c>, then any
/// indented report lines, then any view the step showed. Always <c>\n</c> line ends; nothing depends on time or
/// hash order, so the same file gives the same bytes.
/// </summary>
internal sealed class Transcript
{
    private readonly TextWriter _out;
    private readonly bool _enabled;

    public Transcript(TextWriter output)
    {
        _out = output;
        _enabled = !ReferenceEquals(output, TextWriter.Null);
    }

    /// <summary>False when the transcript goes to TextWriter.Null: nothing is written, callers need not format.</summary>
    public bool Enabled => _enabled;

    public void Step(string file, Statement st, string actual, string verdict)
    {
        if (!_enabled)
        {
            return;
        }

        var sb = new StringBuilder();
        sb.Append(file).Append(':').Append(st.Line).Append(": ").Append(st.Text).Append(" =>");
        if (actual.Length > 0)
        {
            sb.Append(' ').Append(actual);
        }

        sb.Append(' ').Append(verdict).Append('\n');
        _out.Write(sb.ToString());
    }

    /// <summary>An indented detail line (a KASAN report, a WARN, an invariant violation).</summary>
    public void Detail(string line) => _out.Write("  " + line + "\n");

    /// <summary>A view, verbatim (<c>show</c>).</summary>
    public void View(string text)
    {
        if (text.Length == 0)
        {
            return;
        }

        _out.Write(text.EndsWith('\n') ? text : text + "\n");
    }

    /// <summary>A narration line of <c>mmsim demo</c>.</summary>
    public void Narration(string text) => _out.Write((text.Length == 0 ? "#" : "# " + text) + "\n");

    public void Line(string text) => _out.Write(text + "\n");
}
