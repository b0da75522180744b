using System.Text;
using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Scenario;

/// <summary>
/// The scenario parser: lexes each line, parses it against the op schemas of an <see cref="OpRegistry"/>, and
/// checks names statically (each bound once, used after it is bound, of the right kind). Every problem becomes a
/// <c>FILE:LINE:COL</c> diagnostic; a line with an error is left out and parsing goes on with the next line.
/// </summary>
public sealed class Parser
{
    /// <summary>The words an outcome may be, besides errno names and values.</summary>
    public static readonly IReadOnlyList<string> OutcomeWords = ["ok", "any", "null", "KASAN", "WARN", "SIGSEGV", "SIGBUS"];

    private readonly OpRegistry _registry;
    private readonly DiagnosticBag _diags;
    private readonly ScenarioFile _file;
    private readonly Dictionary<string, NameInfo> _names = new(StringComparer.Ordinal);
    private bool _sawStatement;

    private Parser(string path, OpRegistry registry, DiagnosticBag diags)
    {
        _registry = registry;
        _diags = diags;
        _file = new ScenarioFile(path);
    }

    /// <summary>What a name is bound to.</summary>
    public enum NameKind
    {
        Value,
        Program,
        Process,
        Tree,
    }

    private sealed record NameInfo(NameKind Kind, int Line);

    /// <summary>Parse a whole file. The result holds every statement that parsed; check <paramref name="diags"/>.</summary>
    public static ScenarioFile Parse(string path, string text, OpRegistry registry, DiagnosticBag diags)
    {
        var p = new Parser(path, registry, diags);
        p.ParseAll(text);
        return p._file;
    }

    /// <summary>
    /// A parser that reads one line at a time, keeping its name table between lines: the checker uses it to run
    /// generated statements on a live machine exactly as <c>mmsim run</c> would parse them in a file.
    /// </summary>
    public static Parser Incremental(string path, OpRegistry registry, DiagnosticBag diags) => new(path, registry, diags);

    /// <summary>The statements parsed so far.</summary>
    public ScenarioFile File => _file;

    private void ParseAll(string text)
    {
        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text[1..];
        }

        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            ParseLine(lines[i], i + 1);
        }
    }

    /// <summary>
    /// Parse one line (numbered <paramref name="lineNo"/>): the statement it holds, or null for a blank, comment or
    /// malformed line (its diagnostic is in the bag). The statement is also appended to <see cref="File"/>.
    /// </summary>
    public Statement? ParseLine(string lineText, int lineNo)
    {
        var lexed = Lexer.LexLine(lineText, lineNo, _diags);
        if (lexed is null)
        {
            _sawStatement = true;
            return null;
        }

        if (lexed.Narration is not null)
        {
            _file.Narrations.Add(new Narration(lineNo, lexed.Narration));
        }

        if (lexed.Tokens.Count == 0)
        {
            return null;
        }

        var lp = new LineParser(this, lineText, lexed.Tokens);
        Statement? st = null;
        try
        {
            st = lp.ParseStatement();
            _file.Statements.Add(st);
        }
        catch (ParseError e)
        {
            _diags.Add(lineNo, e.Column, e.Message);
            foreach (var (name, kind) in lp.Pending)
            {
                // Names the line declared before its error stay declared: no cascade of "unknown name".
                _names.TryAdd(name, new NameInfo(kind, lineNo));
            }
        }

        _sawStatement = true;
        return st;
    }

    private bool IsReserved(string name) =>
        OutcomeWords.Contains(name) || ErrnoExtensions.TryParse(name, out _) || _registry.IsGlobalKeyword(name);

    /// <summary>A parse error at a column of the current line (caught per line).</summary>
    private sealed class ParseError : Exception
    {
        public ParseError(int column, string message)
            : base(message) => Column = column;

        public int Column { get; }
    }

    /// <summary>Parses the tokens of one line.</summary>
    private sealed class LineParser
    {
        private readonly Parser _p;
        private readonly string _text;
        private readonly IReadOnlyList<Token> _toks;
        private readonly List<(string Name, NameKind Kind)> _defines = [];
        private int _pos;

        public LineParser(Parser p, string text, IReadOnlyList<Token> toks)
        {
            _p = p;
            _text = text;
            _toks = toks;
        }

        /// <summary>The names the line declares, as far as it parsed.</summary>
        public IReadOnlyList<(string Name, NameKind Kind)> Pending => _defines;

        private Token? Peek(int ahead = 0) => _pos + ahead < _toks.Count ? _toks[_pos + ahead] : null;

        private bool AtEnd => _pos >= _toks.Count || _toks[_pos].Kind == TokenKind.Arrow;

        private int EndColumn => _toks[^1].EndColumn;

        private int Line => _toks[0].Line;

        private Token Next() => _toks[_pos++];

        private static string Got(Token? t) => t is null ? "the end of the line" : t.Value.ToString();

        private static ParseError Error(int col, string message) => new(col, message);

        private ParseError Unexpected(Token? t, string expected) =>
            Error(t?.Column ?? EndColumn, $"expected {expected}, got {Got(t)}");

        public Statement ParseStatement()
        {
            var first = _toks[0];
            string? subject = null;
            var subjectCol = 0;
            var scope = OpScope.Global;
            if (first.Kind == TokenKind.Ident && Peek(1)?.Kind == TokenKind.Colon)
            {
                subject = first.Text;
                subjectCol = first.Column;
                _pos = 2;
                scope = SubjectScope(first);
            }

            string? bind = null;
            var bindCol = 0;
            if (Peek() is { Kind: TokenKind.Ident } b && Peek(1)?.Kind == TokenKind.Equals)
            {
                bind = b.Text;
                bindCol = b.Column;
                _pos += 2;
            }

            var opTok = Peek();
            if (opTok is not { Kind: TokenKind.Ident })
            {
                throw Unexpected(opTok, subject is null ? "a statement" : "an operation");
            }

            _pos++;
            var opName = opTok.Value.Text;
            if (scope == OpScope.Global && _p._registry.IsFamily(opName))
            {
                var sub = Peek();
                if (sub is not { Kind: TokenKind.Ident })
                {
                    throw Unexpected(sub, $"what to {opName} ({string.Join(", ", _p._registry.FamilyMembers(opName))})");
                }

                _pos++;
                var key = opName + " " + sub.Value.Text;
                if (_p._registry.FindSchema(OpScope.Global, key) is null)
                {
                    var members = _p._registry.FamilyMembers(opName);
                    throw Error(sub.Value.Column, $"unknown {opName} '{sub.Value.Text}'{Suggest(sub.Value.Text, members)} ({string.Join(", ", members)})");
                }

                opName = key;
            }

            var schema = _p._registry.FindSchema(scope, opName) ?? throw UnknownOp(opTok.Value, scope, subject);
            if (schema.Name == "machine" && _p._sawStatement)
            {
                throw Error(opTok.Value.Column, "'machine' must come before any other statement");
            }

            if (bind is not null)
            {
                if (schema.Result == ResultKind.None)
                {
                    throw Error(bindCol, $"'{schema.Name}' returns no value to bind to '{bind}'");
                }

                CheckNewName(bind, bindCol);
                _defines.Add((bind, schema.Result == ResultKind.Program ? NameKind.Program : NameKind.Value));
            }

            var st = new Statement(Line, schema, first.Column, opTok.Value.Column)
            {
                Subject = subject,
                SubjectColumn = subjectCol,
                BindName = bind,
                BindColumn = bindCol,
            };
            ParseArgs(st);
            var textEnd = EndColumn;
            if (_pos < _toks.Count && _toks[_pos].Kind == TokenKind.Arrow)
            {
                var arrow = Next();
                textEnd = arrow.Column;
                st.Outcome = ParseOutcome(arrow, schema);
                st.HasOutcome = true;
            }

            st.Text = Collapse(_text, first.Column - 1, textEnd - 1);

            foreach (var (name, kind) in _defines)
            {
                _p._names[name] = new NameInfo(kind, Line);
            }

            return st;
        }

        private OpScope SubjectScope(Token subj)
        {
            if (!_p._names.TryGetValue(subj.Text, out var info))
            {
                throw Error(subj.Column, $"unknown process, program or tree '{subj.Text}'");
            }

            return info.Kind switch
            {
                NameKind.Process => OpScope.Process,
                NameKind.Program => OpScope.Program,
                NameKind.Tree => OpScope.Tree,
                _ => throw Error(subj.Column, $"'{subj.Text}' is a value (line {info.Line}), not a process, program or tree"),
            };
        }

        private ParseError UnknownOp(Token op, OpScope scope, string? subject)
        {
            var what = scope switch
            {
                OpScope.Process => "process operation",
                OpScope.Program => "program operation",
                OpScope.Tree => "tree operation",
                _ => "statement",
            };
            foreach (var other in new[] { OpScope.Global, OpScope.Process, OpScope.Program, OpScope.Tree })
            {
                if (other != scope && (_p._registry.FindSchema(other, op.Text) is not null ||
                                       (other == OpScope.Global && _p._registry.IsFamily(op.Text))))
                {
                    var hint = other switch
                    {
                        OpScope.Global => $"'{op.Text}' is a statement of its own, without '{subject}:'",
                        OpScope.Process => $"'{op.Text}' is a process operation: write 'P: {op.Text} ...' with a process P",
                        OpScope.Program => $"'{op.Text}' is a program operation: write 'G: {op.Text} ...' with a program G",
                        _ => $"'{op.Text}' is a tree operation: write 'T: {op.Text} ...' with a tree T",
                    };
                    return Error(op.Column, $"'{op.Text}' is not a {what}: {hint}");
                }
            }

            var candidates = _p._registry.Schemas.Where(s => s.Scope == scope).Select(s => s.Name.Split(' ')[0]).Distinct();
            return Error(op.Column, $"unknown {what} '{op.Text}'{Suggest(op.Text, candidates)}");
        }

        private void CheckNewName(string name, int col)
        {
            if (_p.IsReserved(name))
            {
                throw Error(col, $"'{name}' is a reserved word and cannot be a name");
            }

            if (_p._names.TryGetValue(name, out var info))
            {
                throw Error(col, $"'{name}' is already bound (line {info.Line}); a name is bound once per scenario");
            }

            if (_defines.Exists(d => d.Name == name))
            {
                throw Error(col, $"'{name}' is bound twice in this statement");
            }
        }

        private void ParseArgs(Statement st)
        {
            var schema = st.Schema;
            var positional = new List<ArgNode>();
            var options = new List<ArgNode>();
            while (!AtEnd)
            {
                var t = Peek()!.Value;
                if (t.Kind == TokenKind.Ident && Peek(1)?.Kind == TokenKind.Equals)
                {
                    var spec = schema.FindOption(t.Text);
                    if (spec is null)
                    {
                        var names = schema.Options.Select(o => o.Name).ToList();
                        var known = names.Count == 0 ? $"'{schema.Name}' takes no options" : $"options: {string.Join(", ", names.Select(n => n + "="))}";
                        throw Error(t.Column, $"unknown option '{t.Text}='{Suggest(t.Text, names)} ({known}; usage: {schema.Usage})");
                    }

                    if (HasSpec(options, spec))
                    {
                        throw Error(t.Column, $"option '{t.Text}=' given twice");
                    }

                    _pos += 2;
                    options.Add(ParseValue(spec, t.Column, $"'{t.Text}='"));
                }
                else if (t.Kind is TokenKind.Ident or TokenKind.Number or TokenKind.Minus or TokenKind.Version)
                {
                    if (positional.Count >= schema.Positional.Count)
                    {
                        throw Error(t.Column, schema.Positional.Count == 0
                            ? $"unexpected {t}: usage: {schema.Usage}"
                            : $"too many arguments at {t}: usage: {schema.Usage}");
                    }

                    var spec = schema.Positional[positional.Count];
                    positional.Add(ParseValue(spec, t.Column, spec.Name.ToUpperInvariant()));
                }
                else
                {
                    throw Error(t.Column, $"unexpected {t}: usage: {schema.Usage}");
                }
            }

            var endCol = _pos < _toks.Count ? _toks[_pos].Column : EndColumn;
            for (var i = positional.Count; i < schema.Positional.Count; i++)
            {
                if (!schema.Positional[i].Optional)
                {
                    var hint = positional.Count > 0 && positional[^1].Expr is { Terms.Count: > 1 } e
                        ? $" ('{e.Text}' is one expression: a '+' or '-' after a term always continues it)"
                        : "";
                    throw Error(endCol, $"missing {schema.Positional[i].Name.ToUpperInvariant()}: usage: {schema.Usage}{hint}");
                }
            }

            foreach (var o in schema.Options)
            {
                if (!o.Optional && !HasSpec(options, o))
                {
                    throw Error(endCol, $"missing option '{o.Name}=': usage: {schema.Usage}");
                }
            }

            st.Args.AddRange(positional);
            st.Args.AddRange(options);
        }

        private static bool HasSpec(List<ArgNode> args, ArgSpec spec)
        {
            foreach (var a in args)
            {
                if (a.Spec == spec)
                {
                    return true;
                }
            }

            return false;
        }

        private ArgNode ParseValue(ArgSpec spec, int nameCol, string what)
        {
            var t = Peek();
            if (t is null || t.Value.Kind == TokenKind.Arrow)
            {
                throw Unexpected(t, $"a value for {what}");
            }

            if (t.Value.Kind == TokenKind.Ident && Peek(1)?.Kind == TokenKind.Equals)
            {
                throw Error(t.Value.Column, $"expected a value for {what}, got '{t.Value.Text}='");
            }

            var col = t.Value.Column;
            switch (spec.Kind)
            {
                case ArgKind.Expr:
                    return new ArgNode(spec, col, nameCol) { Expr = ParseExpr(what) };
                case ArgKind.List:
                case ArgKind.ExprOrList:
                    {
                        var list = new List<Expr> { ParseExpr(what) };
                        while (Peek()?.Kind == TokenKind.Comma)
                        {
                            _pos++;
                            list.Add(ParseExpr(what));
                        }

                        return new ArgNode(spec, col, nameCol) { List = list, IsList = list.Count > 1, Expr = list[0] };
                    }

                case ArgKind.Prot:
                    return new ArgNode(spec, col, nameCol) { Bits = ParseProt(what), Word = t.Value.Text };
                case ArgKind.Flags:
                    {
                        var items = new List<FlagItem> { ParseFlag(spec, what) };
                        while (Peek()?.Kind == TokenKind.Pipe)
                        {
                            _pos++;
                            items.Add(ParseFlag(spec, what));
                        }

                        var bits = items.Aggregate(0UL, (acc, f) => acc | f.Value);
                        return new ArgNode(spec, col, nameCol) { Flags = items, Bits = bits };
                    }

                case ArgKind.Word:
                    {
                        var w = Next();
                        if (w.Kind == TokenKind.Ident && spec.Words!.TryGet(w.Text, out var v))
                        {
                            return new ArgNode(spec, col, nameCol) { Word = w.Text, Bits = v };
                        }

                        if (w.Kind == TokenKind.Number && spec.AllowNumber)
                        {
                            return new ArgNode(spec, col, nameCol) { Bits = w.Number };
                        }

                        throw UnknownWord(w, spec.Words!, what);
                    }

                case ArgKind.ExprOrWord:
                    if (t.Value.Kind == TokenKind.Ident && spec.Words!.TryGet(t.Value.Text, out var wv))
                    {
                        _pos++;
                        return new ArgNode(spec, col, nameCol) { Word = t.Value.Text, Bits = wv };
                    }

                    return new ArgNode(spec, col, nameCol) { Expr = ParseExpr(what) };
                case ArgKind.Size:
                    {
                        var n = Next();
                        if (n.Kind != TokenKind.Number || n.Number is not (1 or 2 or 4 or 8))
                        {
                            throw Error(n.Column, $"{what} must be 1, 2, 4 or 8, got {n}");
                        }

                        return new ArgNode(spec, col, nameCol) { Bits = n.Number, Word = n.Text };
                    }

                case ArgKind.ProcessRef:
                    {
                        var n = Next();
                        if (n.Kind != TokenKind.Ident)
                        {
                            throw Error(n.Column, $"expected a process name for {what}, got {n}");
                        }

                        if (!_p._names.TryGetValue(n.Text, out var info))
                        {
                            throw Error(n.Column, $"unknown process '{n.Text}'");
                        }

                        if (info.Kind != NameKind.Process)
                        {
                            throw Error(n.Column, $"'{n.Text}' is not a process (it is a {Describe(info.Kind)}, line {info.Line})");
                        }

                        return new ArgNode(spec, col, nameCol) { Word = n.Text };
                    }

                case ArgKind.NewProcess:
                case ArgKind.NewTree:
                    {
                        var n = Next();
                        if (n.Kind != TokenKind.Ident)
                        {
                            throw Error(n.Column, $"expected a new name for {what}, got {n}");
                        }

                        CheckNewName(n.Text, n.Column);
                        _defines.Add((n.Text, spec.Kind == ArgKind.NewProcess ? NameKind.Process : NameKind.Tree));
                        return new ArgNode(spec, col, nameCol) { Word = n.Text };
                    }

                case ArgKind.Profile:
                    {
                        var n = Next();
                        if (n.Kind is not (TokenKind.Version or TokenKind.Ident or TokenKind.Number))
                        {
                            throw Error(n.Column, $"expected a kernel profile for {what}, got {n}");
                        }

                        if (!KernelProfile.TryGet(n.Text, out _))
                        {
                            throw Error(n.Column, $"unknown kernel profile '{n.Text}' (known: {string.Join(", ", KernelProfile.All.Select(k => k.Name))})");
                        }

                        return new ArgNode(spec, col, nameCol) { Word = n.Text };
                    }

                default:
                    throw new InvalidOperationException("unknown argument kind " + spec.Kind);
            }
        }

        private static string Describe(NameKind k) => k switch
        {
            NameKind.Process => "process",
            NameKind.Program => "program",
            NameKind.Tree => "tree",
            _ => "value",
        };

        private static ParseError UnknownWord(Token w, WordTable table, string what) =>
            w.Kind == TokenKind.Ident
                ? Error(w.Column, $"unknown {table.Name} '{w.Text}' for {what}{Suggest(w.Text, table.Words.Select(x => x.Word))} (one of: {table.List()})")
                : Error(w.Column, $"expected a {table.Name} for {what} ({table.List()}), got {w}");

        private FlagItem ParseFlag(ArgSpec spec, string what)
        {
            var t = Peek();
            if (t is null || t.Value.Kind == TokenKind.Arrow)
            {
                throw Unexpected(t, $"a {spec.Words!.Name} for {what}");
            }

            var w = Next();
            if (w.Kind == TokenKind.Number)
            {
                return new FlagItem(null, w.Number, w.Column);
            }

            if (w.Kind == TokenKind.Ident && spec.Words!.TryGet(w.Text, out var v))
            {
                return new FlagItem(w.Text, v, w.Column);
            }

            throw UnknownWord(w, spec.Words!, what);
        }

        private ulong ParseProt(string what)
        {
            var t = Next();
            if (t.Kind == TokenKind.Number)
            {
                return t.Number;
            }

            if (t.Kind == TokenKind.Ident)
            {
                if (t.Text == "none")
                {
                    return 0;
                }

                var s = t.Text;
                var i = 0;
                ulong bits = 0;
                if (i < s.Length && s[i] == 'r')
                {
                    bits |= OpSchemas.PROT_READ;
                    i++;
                }

                if (i < s.Length && s[i] == 'w')
                {
                    bits |= OpSchemas.PROT_WRITE;
                    i++;
                }

                if (i < s.Length && s[i] == 'x')
                {
                    bits |= OpSchemas.PROT_EXEC;
                    i++;
                }

                if (i == s.Length && s.Length > 0)
                {
                    return bits;
                }
            }

            throw Error(t.Column, $"invalid protection {t} for {what}: write none, or r, w, x in that order (r, rw, rx, rwx ...)");
        }

        private Expr ParseExpr(string what)
        {
            var terms = new List<ExprTerm>();
            var first = Peek();
            if (first is null || first.Value.Kind == TokenKind.Arrow)
            {
                throw Unexpected(first, $"a value for {what}");
            }

            var negative = false;
            if (first.Value.Kind == TokenKind.Minus)
            {
                negative = true;
                _pos++;
            }

            terms.Add(ParseTerm(negative, negative ? "-" : null, what));
            while (Peek() is { Kind: TokenKind.Plus or TokenKind.Minus } op)
            {
                _pos++;
                terms.Add(ParseTerm(op.Kind == TokenKind.Minus, op.Text, what));
            }

            var last = _toks[_pos - 1];
            return new Expr(terms, first.Value.Column, Collapse(_text, first.Value.Column - 1, last.EndColumn - 1));
        }

        // The term after AFTEROP ('+' or '-'), or the first of WHAT; the error text is built only on an error.
        private ExprTerm ParseTerm(bool negative, string? afterOp, string what)
        {
            string Expected() => afterOp is not null ? $"a number or a name after '{afterOp}'" : $"a number or a name for {what}";

            var t = Peek();
            if (t is { Kind: TokenKind.Number } n)
            {
                _pos++;
                return new ExprTerm(negative, n.Number, null, n.Column);
            }

            if (t is { Kind: TokenKind.Ident } opt && Peek(1)?.Kind == TokenKind.Equals)
            {
                throw Error(opt.Column, $"expected {Expected()}, got '{opt.Text}='");
            }

            if (t is { Kind: TokenKind.Ident } id)
            {
                _pos++;
                if (!_p._names.TryGetValue(id.Text, out var info))
                {
                    throw Error(id.Column, $"unknown name '{id.Text}'");
                }

                if (info.Kind is NameKind.Process or NameKind.Tree)
                {
                    throw Error(id.Column, $"'{id.Text}' is a {Describe(info.Kind)} (line {info.Line}), not a value");
                }

                return new ExprTerm(negative, 0, id.Text, id.Column);
            }

            if (t is { Kind: TokenKind.Version } v)
            {
                throw Error(v.Column, $"invalid number '{v.Text}'");
            }

            throw Unexpected(t is { Kind: TokenKind.Arrow } ? null : t, Expected());
        }

        private OutcomeNode ParseOutcome(Token arrow, OpSchema schema)
        {
            var t = Peek();
            if (t is null)
            {
                throw Error(arrow.EndColumn, "expected an outcome after '=>'");
            }

            var col = t.Value.Column;
            OutcomeNode node;
            if (t.Value.Kind == TokenKind.Ident && !_p._names.ContainsKey(t.Value.Text))
            {
                _pos++;
                var w = t.Value.Text;
                node = w switch
                {
                    "ok" => new OutcomeNode(OutcomeKind.Ok, col, w),
                    "any" => new OutcomeNode(OutcomeKind.Any, col, w),
                    "null" => new OutcomeNode(OutcomeKind.Null, col, w),
                    "KASAN" => new OutcomeNode(OutcomeKind.Kasan, col, w),
                    "WARN" => new OutcomeNode(OutcomeKind.Warn, col, w),
                    "SIGSEGV" => new OutcomeNode(OutcomeKind.Signal, col, w) { Signal = Signal.SIGSEGV },
                    "SIGBUS" => new OutcomeNode(OutcomeKind.Signal, col, w) { Signal = Signal.SIGBUS },
                    _ when ErrnoExtensions.TryParse(w, out var e) => new OutcomeNode(OutcomeKind.Errno, col, w) { Errno = e },
                    _ when w.Length > 1 && w[0] == 'E' && w.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c)) =>
                        throw Error(col, $"unknown errno '{w}'{Suggest(w, Enum.GetNames<Errno>())}"),
                    _ => throw Error(col, $"unknown outcome '{w}'{Suggest(w, OutcomeWords)} (ok, any, null, an errno name, SIGSEGV, SIGBUS, KASAN, WARN, a value or a list)"),
                };
            }
            else
            {
                var list = new List<Expr> { ParseExpr("the outcome") };
                while (Peek()?.Kind == TokenKind.Comma)
                {
                    _pos++;
                    list.Add(ParseExpr("the outcome"));
                }

                var text = Collapse(_text, col - 1, _toks[_pos - 1].EndColumn - 1);
                node = new OutcomeNode(list.Count > 1 ? OutcomeKind.List : OutcomeKind.Value, col, text) { Exprs = list };
            }

            if (Peek() is { } extra)
            {
                throw Error(extra.Column, $"unexpected {extra} after the outcome");
            }

            if (schema.Result == ResultKind.None && node.Kind is OutcomeKind.Value or OutcomeKind.List or OutcomeKind.Null)
            {
                throw Error(col, $"'{schema.Name}' returns no value: its outcome can be ok, any, an errno, KASAN or WARN");
            }

            return node;
        }
    }

    /// <summary>" (did you mean 'x'?)" for the closest candidate within edit distance 2, else "".</summary>
    internal static string Suggest(string word, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDist = int.MaxValue;
        foreach (var c in candidates)
        {
            var d = string.Equals(c, word, StringComparison.OrdinalIgnoreCase) ? 0 : Distance(word, c);
            if (d < bestDist)
            {
                bestDist = d;
                best = c;
            }
        }

        return best is not null && bestDist <= (word.Length >= 7 ? 2 : 1) && best != word
            ? $" (did you mean '{best}'?)"
            : "";
    }

    private static int Distance(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 2)
        {
            return int.MaxValue;
        }

        // Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions.
        var prev2 = new int[b.Length + 1];
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            prev[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    cur[j] = Math.Min(cur[j], prev2[j - 2] + 1);
                }
            }

            (prev2, prev, cur) = (prev, cur, prev2);
        }

        return prev[b.Length];
    }

    /// <summary>Collapse runs of blanks to one space and trim.</summary>
    /// <summary><see cref="Collapse(string)"/> of <c>text[start..end]</c>, without copying text that is collapsed already.</summary>
    internal static string Collapse(string text, int start, int end)
    {
        var span = text.AsSpan(start, end - start);
        for (var i = 0; i < span.Length; i++)
        {
            var c = span[i];
            if (c is '\t' or '\r' or '\f' or '\v' || (c == ' ' && (i == 0 || i == span.Length - 1 || span[i - 1] == ' ')))
            {
                return Collapse(text[start..end]);
            }
        }

        return start == 0 && end == text.Length ? text : text[start..end];
    }

    internal static string Collapse(string s)
    {
        var sb = new StringBuilder(s.Length);
        var blank = false;
        foreach (var c in s)
        {
            if (c is ' ' or '\t' or '\r' or '\f' or '\v')
            {
                blank = sb.Length > 0;
                continue;
            }

            if (blank)
            {
                sb.Append(' ');
                blank = false;
            }

            sb.Append(c);
        }

        return sb.ToString();
    }
}
