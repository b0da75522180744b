using System.Text;

namespace MmSim.Scenario;

/// <summary>One term of an expression: a number literal or a bound name, with its sign.</summary>
public sealed record ExprTerm(bool Negative, ulong Number, string? Name, int Column)
{
    public bool IsName => Name is not null;
}

/// <summary>
/// An expression: terms joined by <c>+</c> and <c>-</c> (<c>a + 2p - 0x10</c>), optionally with a leading
/// <c>-</c> (<c>-1</c>). It evaluates in exact arithmetic; the result must lie in [-2^63, 2^64-1] and is kept as a
/// 64-bit pattern (so <c>-1</c> is all ones).
/// </summary>
public sealed record Expr(IReadOnlyList<ExprTerm> Terms, int Column, string Text)
{
    public bool IsConstant => Terms.All(t => !t.IsName);

    /// <summary>The names the expression uses.</summary>
    public IEnumerable<ExprTerm> Names => Terms.Where(t => t.IsName);

    /// <summary>
    /// Evaluate with <paramref name="lookup"/> giving each name's value. Returns false with an error message when a
    /// name has no value or the result does not fit in 64 bits.
    /// </summary>
    public bool TryEvaluate(Func<ExprTerm, ulong?> lookup, out ulong value, out string error, out int errorColumn)
    {
        Int128 acc = 0;
        value = 0;
        error = "";
        errorColumn = Column;
        foreach (var t in Terms)
        {
            ulong v;
            if (t.IsName)
            {
                var got = lookup(t);
                if (got is null)
                {
                    error = $"'{t.Name}' has no value";
                    errorColumn = t.Column;
                    return false;
                }

                v = got.Value;
            }
            else
            {
                v = t.Number;
            }

            acc = t.Negative ? acc - v : acc + v;
        }

        if (acc < long.MinValue || acc > ulong.MaxValue)
        {
            error = $"'{Text}' overflows 64 bits";
            return false;
        }

        value = acc < 0 ? unchecked((ulong)(long)acc) : (ulong)acc;
        return true;
    }

    /// <summary>Evaluate an expression without names.</summary>
    public ulong EvaluateConstant()
    {
        if (!TryEvaluate(_ => null, out var v, out var error, out _))
        {
            throw new ScenarioException(error) { Column = Column };
        }

        return v;
    }

    /// <summary>Rebuild the source text from terms (used when an expression is made in code).</summary>
    public static string Render(IReadOnlyList<ExprTerm> terms)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < terms.Count; i++)
        {
            var t = terms[i];
            if (i > 0)
            {
                sb.Append(t.Negative ? " - " : " + ");
            }
            else if (t.Negative)
            {
                sb.Append('-');
            }

            sb.Append(t.Name ?? ValueFormat.Number(t.Number));
        }

        return sb.ToString();
    }
}
