namespace MmSim.Scenario;

/// <summary>The kinds of token of the scenario language.</summary>
public enum TokenKind
{
    /// <summary>A word: <c>[A-Za-z_][A-Za-z0-9_]*</c> (names, keywords, ops, flag words, errno names).</summary>
    Ident,

    /// <summary>A number literal, already scaled by its suffix; <see cref="Token.Number"/> holds the value.</summary>
    Number,

    /// <summary>A dotted word that starts with a digit, such as the profile name <c>6.12.y</c>.</summary>
    Version,

    /// <summary><c>=</c></summary>
    Equals,

    /// <summary><c>=&gt;</c></summary>
    Arrow,

    /// <summary><c>:</c></summary>
    Colon,

    /// <summary><c>,</c></summary>
    Comma,

    /// <summary><c>|</c></summary>
    Pipe,

    /// <summary><c>+</c></summary>
    Plus,

    /// <summary><c>-</c></summary>
    Minus,
}

/// <summary>One token: its kind, its source text, where it starts (1-based line and column) and its value.</summary>
public readonly record struct Token(TokenKind Kind, string Text, int Line, int Column, ulong Number = 0)
{
    /// <summary>The column just after the token.</summary>
    public int EndColumn => Column + Text.Length;

    public bool Is(TokenKind kind, string text) => Kind == kind && Text == text;

    public override string ToString() => Kind switch
    {
        TokenKind.Ident => Text,
        TokenKind.Number => Text,
        TokenKind.Version => Text,
        _ => "'" + Text + "'",
    };
}
