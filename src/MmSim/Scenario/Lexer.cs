using System.Globalization;

namespace MmSim.Scenario;

/// <summary>
/// The scenario lexer. One statement per line, so it works a line at a time: <see cref="LexLine"/> turns a line
/// into tokens, or reports the first lexical error of the line and returns null.
/// </summary>
public static class Lexer
{
    /// <summary>The result of lexing one line.</summary>
    public sealed record LineTokens(IReadOnlyList<Token> Tokens, string? Narration);

    /// <summary>
    /// Lex one line (without its line terminator). A line that holds only a <c>##</c> comment carries it as
    /// narration (printed by <c>mmsim demo</c>). Returns null after reporting a diagnostic.
    /// </summary>
    public static LineTokens? LexLine(string text, int line, DiagnosticBag diags)
    {
        // About one token per three characters: sized so that the list does not grow on a usual line.
        var tokens = new List<Token>((text.Length / 3) + 4);
        string? narration = null;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            var col = i + 1;
            if (c is ' ' or '\t' or '\r' or '\f' or '\v')
            {
                i++;
                continue;
            }

            if (c == '#')
            {
                if (tokens.Count == 0 && i + 1 < text.Length && text[i + 1] == '#')
                {
                    narration = text[(i + 2)..].Trim();
                }

                break;
            }

            if (IsAtomChar(c))
            {
                var start = i;
                while (i < text.Length && IsAtomChar(text[i]))
                {
                    i++;
                }

                var atom = text[start..i];
                var tok = LexAtom(atom, line, col, diags);
                if (tok is null)
                {
                    return null;
                }

                tokens.Add(tok.Value);
                continue;
            }

            TokenKind kind;
            string punct;
            switch (c)
            {
                case '=' when i + 1 < text.Length && text[i + 1] == '>':
                    kind = TokenKind.Arrow;
                    punct = "=>";
                    break;
                case '=':
                    kind = TokenKind.Equals;
                    punct = "=";
                    break;
                case ':':
                    kind = TokenKind.Colon;
                    punct = ":";
                    break;
                case ',':
                    kind = TokenKind.Comma;
                    punct = ",";
                    break;
                case '|':
                    kind = TokenKind.Pipe;
                    punct = "|";
                    break;
                case '+':
                    kind = TokenKind.Plus;
                    punct = "+";
                    break;
                case '-':
                    kind = TokenKind.Minus;
                    punct = "-";
                    break;
                default:
                    diags.Add(line, col, "unexpected character " + Describe(c));
                    return null;
            }

            // The punctuation's text is a literal: the same characters as the source, without a substring each.
            tokens.Add(new Token(kind, punct, line, col));
            i += punct.Length;
        }

        return new LineTokens(tokens, narration);
    }

    /// <summary>How a character is named in a diagnostic: quoted when printable ASCII, else as U+XXXX.</summary>
    public static string Describe(char c) =>
        c is > ' ' and < (char)0x7f ? "'" + c + "'" : "U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture);

    private static bool IsAtomChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.';

    private static Token? LexAtom(string atom, int line, int col, DiagnosticBag diags)
    {
        if (char.IsAsciiDigit(atom[0]))
        {
            if (atom.Contains('.', StringComparison.Ordinal))
            {
                return new Token(TokenKind.Version, atom, line, col);
            }

            if (!TryParseNumber(atom, out var value, out var error))
            {
                diags.Add(line, col, error);
                return null;
            }

            return new Token(TokenKind.Number, atom, line, col, value);
        }

        var dot = atom.IndexOf('.', StringComparison.Ordinal);
        if (dot >= 0)
        {
            diags.Add(line, col + dot, "unexpected character '.'");
            return null;
        }

        return new Token(TokenKind.Ident, atom, line, col);
    }

    /// <summary>
    /// Parse a number literal: decimal or <c>0x</c> hex digits, <c>_</c> between digits, then an optional suffix
    /// <c>K</c> <c>M</c> <c>G</c> (x1024^n) or <c>p</c> (x4096). The value must fit in 64 bits.
    /// </summary>
    public static bool TryParseNumber(string atom, out ulong value, out string error)
    {
        value = 0;
        error = "";
        var body = atom;
        var hex = false;
        if (atom.Length >= 2 && atom[0] == '0' && atom[1] is 'x' or 'X')
        {
            if (atom[1] == 'X')
            {
                error = $"invalid number '{atom}': hex numbers start with 0x";
                return false;
            }

            hex = true;
            body = atom[2..];
        }

        ulong scale = 1;
        if (body.Length > 0)
        {
            var last = body[^1];
            var isDigit = hex ? char.IsAsciiHexDigit(last) : char.IsAsciiDigit(last);
            if (!isDigit && last != '_')
            {
                switch (last)
                {
                    case 'K':
                        scale = 1UL << 10;
                        break;
                    case 'M':
                        scale = 1UL << 20;
                        break;
                    case 'G':
                        scale = 1UL << 30;
                        break;
                    case 'p':
                        scale = 4096;
                        break;
                    case 'k' or 'm' or 'g' or 'P':
                        error = $"invalid number suffix '{last}' in '{atom}' (the suffixes are K, M, G and p)";
                        return false;
                    default:
                        error = InvalidDigit(atom, last);
                        return false;
                }

                body = body[..^1];
            }
        }

        if (body.Length == 0)
        {
            error = $"invalid number '{atom}': no digits";
            return false;
        }

        if (body[0] == '_' || body[^1] == '_' || body.Contains("__", StringComparison.Ordinal))
        {
            error = $"invalid number '{atom}': '_' may only separate digits";
            return false;
        }

        ulong v = 0;
        var radix = hex ? 16UL : 10UL;
        var overflow = false;
        foreach (var ch in body)
        {
            if (ch == '_')
            {
                continue;
            }

            int d;
            if (char.IsAsciiDigit(ch))
            {
                d = ch - '0';
            }
            else if (hex && char.IsAsciiHexDigit(ch))
            {
                d = (char.ToLowerInvariant(ch) - 'a') + 10;
            }
            else
            {
                error = InvalidDigit(atom, ch);
                return false;
            }

            if (v > (ulong.MaxValue - (ulong)d) / radix)
            {
                overflow = true;
            }

            v = unchecked((v * radix) + (ulong)d);
        }

        if (overflow || (scale > 1 && v > ulong.MaxValue / scale))
        {
            error = $"number out of range: '{atom}' does not fit in 64 bits";
            return false;
        }

        value = v * scale;
        return true;
    }

    private static string InvalidDigit(string atom, char c) =>
        $"invalid number '{atom}': unexpected {Describe(c)}";
}
