using FsCheck;
using FsCheck.Fluent;
using MmSim.Scenario;
using Xunit;

namespace MmSim.Tests.Scenario;

public class LexerTests
{
    private static IReadOnlyList<Token> Lex(string line)
    {
        var diags = new DiagnosticBag("t.mms");
        var r = Lexer.LexLine(line, 1, diags);
        Assert.False(diags.HasErrors, string.Join("\n", diags.Items));
        return r!.Tokens;
    }

    private static Diagnostic LexError(string line)
    {
        var diags = new DiagnosticBag("t.mms");
        Assert.Null(Lexer.LexLine(line, 7, diags));
        return Assert.Single(diags.Items);
    }

    [Theory]
    [InlineData("0", 0UL)]
    [InlineData("42", 42UL)]
    [InlineData("007", 7UL)]
    [InlineData("1_000_000", 1_000_000UL)]
    [InlineData("0x10", 16UL)]
    [InlineData("0xdeadBEEF", 0xdeadbeefUL)]
    [InlineData("0x1_0000", 0x10000UL)]
    [InlineData("4K", 4096UL)]
    [InlineData("16M", 16UL << 20)]
    [InlineData("1G", 1UL << 30)]
    [InlineData("16p", 16 * 4096UL)]
    [InlineData("0x10p", 16 * 4096UL)]
    [InlineData("0xfK", 15 * 1024UL)]
    [InlineData("18446744073709551615", ulong.MaxValue)]
    [InlineData("0xffffffffffffffff", ulong.MaxValue)]
    [InlineData("0xffff_ffff_ffff_ffff", ulong.MaxValue)]
    [InlineData("16777215G", 16777215UL << 30)]
    public void Numbers(string text, ulong value)
    {
        var t = Assert.Single(Lex(text));
        Assert.Equal(TokenKind.Number, t.Kind);
        Assert.Equal(value, t.Number);
        Assert.Equal(text, t.Text);
    }

    [Theory]
    [InlineData("18446744073709551616", "number out of range: '18446744073709551616' does not fit in 64 bits")]
    [InlineData("0x1_0000_0000_0000_0000", "number out of range: '0x1_0000_0000_0000_0000' does not fit in 64 bits")]
    [InlineData("17179869184G", "number out of range: '17179869184G' does not fit in 64 bits")]
    [InlineData("0x10000000000000p", "number out of range: '0x10000000000000p' does not fit in 64 bits")]
    [InlineData("16k", "invalid number suffix 'k' in '16k' (the suffixes are K, M, G and p)")]
    [InlineData("2P", "invalid number suffix 'P' in '2P' (the suffixes are K, M, G and p)")]
    [InlineData("12z", "invalid number '12z': unexpected 'z'")]
    [InlineData("1e5", "invalid number '1e5': unexpected 'e'")]
    [InlineData("0X10", "invalid number '0X10': hex numbers start with 0x")]
    [InlineData("0x", "invalid number '0x': no digits")]
    [InlineData("0xK", "invalid number '0xK': no digits")]
    [InlineData("0xg1", "invalid number '0xg1': unexpected 'g'")]
    [InlineData("1_", "invalid number '1_': '_' may only separate digits")]
    [InlineData("1__0", "invalid number '1__0': '_' may only separate digits")]
    [InlineData("0x_1", "invalid number '0x_1': '_' may only separate digits")]
    [InlineData("1_K", "invalid number '1_K': '_' may only separate digits")]
    public void NumberErrors(string text, string message)
    {
        var d = LexError("x " + text);
        Assert.Equal(7, d.Line);
        Assert.Equal(3, d.Column);
        Assert.Equal(message, d.Message);
        Assert.Equal($"t.mms:7:3: {message}", d.ToString());
    }

    [Fact]
    public void Punctuation()
    {
        var toks = Lex("p: a = mmap flags=shared|fixed => 1,2 + 3 - 4");
        Assert.Equal(
            [
                TokenKind.Ident, TokenKind.Colon, TokenKind.Ident, TokenKind.Equals, TokenKind.Ident, TokenKind.Ident,
                TokenKind.Equals, TokenKind.Ident, TokenKind.Pipe, TokenKind.Ident, TokenKind.Arrow, TokenKind.Number,
                TokenKind.Comma, TokenKind.Number, TokenKind.Plus, TokenKind.Number, TokenKind.Minus, TokenKind.Number,
            ],
            toks.Select(t => t.Kind));
        Assert.Equal([1, 2, 4, 6, 8, 13, 18, 19, 25, 26, 32, 35, 36, 37, 39, 41, 43, 45], toks.Select(t => t.Column));
    }

    [Fact]
    public void ArrowNeedsNoBlanks()
    {
        Assert.Equal([TokenKind.Ident, TokenKind.Arrow, TokenKind.Ident], Lex("check=>ok").Select(t => t.Kind));
        Assert.Equal([TokenKind.Ident, TokenKind.Equals, TokenKind.Minus, TokenKind.Number], Lex("node=-1").Select(t => t.Kind));
    }

    [Fact]
    public void IdentifiersAndVersions()
    {
        var toks = Lex("__free_pages kernel=6.12.y EINVAL x9_z");
        Assert.Equal(TokenKind.Ident, toks[0].Kind);
        Assert.Equal("__free_pages", toks[0].Text);
        Assert.Equal(TokenKind.Version, toks[3].Kind);
        Assert.Equal("6.12.y", toks[3].Text);
        Assert.Equal(TokenKind.Ident, toks[4].Kind);
        Assert.Equal(TokenKind.Ident, toks[5].Kind);
    }

    [Fact]
    public void DotInAWord()
    {
        var d = LexError("abc.def");
        Assert.Equal(4, d.Column);
        Assert.Equal("unexpected character '.'", d.Message);
    }

    [Theory]
    [InlineData("spawn p # a comment", 2)]
    [InlineData("# only a comment", 0)]
    [InlineData("   ", 0)]
    [InlineData("", 0)]
    [InlineData("\tspawn\tp\r", 2)]
    [InlineData("check#no blank before", 1)]
    public void CommentsAndBlanks(string line, int count) => Assert.Equal(count, Lex(line).Count);

    [Fact]
    public void Narration()
    {
        var diags = new DiagnosticBag("t");
        Assert.Equal("Booting", Lexer.LexLine("  ## Booting  ", 1, diags)!.Narration);
        Assert.Equal("", Lexer.LexLine("##", 1, diags)!.Narration);
        Assert.Null(Lexer.LexLine("# plain", 1, diags)!.Narration);
        Assert.Null(Lexer.LexLine("check ## not narration", 1, diags)!.Narration);
    }

    [Theory]
    [InlineData("spawn p; spawn q", 8, "unexpected character ';'")]
    [InlineData("x = (1)", 5, "unexpected character '('")]
    [InlineData("x \"a\"", 3, "unexpected character '\"'")]
    [InlineData("a * 2", 3, "unexpected character '*'")]
    [InlineData("caf\u00e9", 4, "unexpected character U+00E9")]
    [InlineData("a\u0000", 2, "unexpected character U+0000")]
    [InlineData("a \ufffd", 3, "unexpected character U+FFFD")]
    public void UnexpectedCharacters(string line, int col, string message)
    {
        var d = LexError(line);
        Assert.Equal(col, d.Column);
        Assert.Equal(message, d.Message);
    }

    [Fact]
    public void NumberFormsRoundTrip()
    {
        // Any value written in decimal, hex, or with a suffix that divides it, parses back to the same value.
        var values = Gen.OneOf(
            ArbMap.Default.ArbFor<ulong>().Generator,
            Gen.Choose(0, int.MaxValue).Select(i => (ulong)i),
            Gen.Choose(0, 1 << 20).Select(i => (ulong)i << 12));
        Prop.ForAll(values.ToArbitrary(), v =>
        {
            var forms = new List<string> { v.ToString(), "0x" + v.ToString("x"), "0x" + v.ToString("X").Replace("0X", "") };
            if (v % 4096 == 0)
            {
                forms.Add((v / 4096) + "p");
            }

            if (v % (1UL << 30) == 0)
            {
                forms.Add((v >> 30) + "G");
            }

            forms.Add(Grouped(v.ToString()));
            return forms.All(f => Lexer.TryParseNumber(f, out var got, out _) && got == v);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(500).WithReplay(1234UL, 5679UL));
    }

    /// <summary>1234567 as 1_234_567.</summary>
    private static string Grouped(string digits)
    {
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < digits.Length; i++)
        {
            if (i > 0 && (digits.Length - i) % 3 == 0)
            {
                sb.Append('_');
            }

            sb.Append(digits[i]);
        }

        return sb.ToString();
    }
}
