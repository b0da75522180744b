using System.Text;
using System.Text.RegularExpressions;
using MmSim.Scenario;
using Xunit;

namespace MmSim.Tests.Scenario;

/// <summary>
/// Mutates the corpus (characters, tokens, lines, numbers) with a seeded random source and runs each mutant: the
/// parser and runner never throw, never report an internal error, and every exit 2 comes with FILE:LINE:COL
/// diagnostics that point inside the file.
/// </summary>
public partial class FuzzTests
{
    private const string Alphabet = "abcxyzpKMG0179_.=>:,|+-# \t@()\"*;\u00e9\u0000\ufffd\r";

    private static readonly string[] Vocabulary =
    [
        "machine", "spawn", "check", "show", "inject", "stat", "tree", "p", "q", "x", "a", "=", "=>", ":", ",", "|", "+", "-",
        "ok", "any", "null", "KASAN", "WARN", "SIGSEGV", "EINVAL", "ENOMEM", "mmap", "munmap", "fork", "exit", "read", "len=",
        "prot=rw", "flags=shared", "ram=", "cpus=", "memcg=unlimited", "kernel=6.12.0", "kernel=9.9", "nth=", "order=",
        "0", "-1", "4096", "0xffffffffffffffff", "18446744073709551616", "16G", "17G", "1p", "0x", "1_", "6.12.y",
        "buddyinfo", "meminfo", "maps", "free_pages", "alloc_pages", "__free_pages", "fail_page_alloc", "off", "alloc_range",
    ];

    [GeneratedRegex(@"^(?<file>[^:]+):(?<line>\d+):(?<col>\d+): .+$")]
    private static partial Regex DiagnosticLine();

    [Fact]
    public void MutantsNeverCrashAndAlwaysExplainThemselves()
    {
        var rng = new Random(20261121);
        var files = CorpusTests.FileList();
        var exits = new int[3];
        foreach (var rel in files)
        {
            var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, rel));
            for (var i = 0; i < 40; i++)
            {
                var mutant = text;
                var n = 1 + rng.Next(3);
                for (var k = 0; k < n; k++)
                {
                    mutant = Mutate(mutant, rng);
                }

                exits[Check(mutant, rel, i)]++;
            }
        }

        // The mutants exercise every outcome: passing, failing and malformed files.
        Assert.True(exits.All(n => n >= 20), string.Join(",", exits));
    }

    /// <summary>
    /// Byte-level mutants of the corpus (flipped, inserted, deleted bytes, invalid UTF-8 included), decoded as
    /// <c>mmsim run</c> reads a file: parser and runner never crash, every error is a FILE:LINE:COL diagnostic.
    /// </summary>
    [Fact]
    public void ByteMutantsNeverCrash()
    {
        var rng = new Random(20261122);
        byte[] special = [0x00, 0x0a, 0x0d, 0x20, 0x23, 0x3d, 0x3a, 0x2d, 0x7f, 0x80, 0xc3, 0xe2, 0xef, 0xff];
        var exits = new int[3];
        foreach (var rel in CorpusTests.FileList())
        {
            var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, rel));
            for (var i = 0; i < 12; i++)
            {
                var b = bytes.ToList();
                for (var k = 1 + rng.Next(4); k > 0; k--)
                {
                    var at = rng.Next(b.Count + 1);
                    var value = rng.Next(2) == 0 ? special[rng.Next(special.Length)] : (byte)rng.Next(256);
                    switch (rng.Next(3))
                    {
                        case 0 when at < b.Count:
                            b[at] = value;
                            break;
                        case 1 when at < b.Count:
                            b.RemoveAt(at);
                            break;
                        default:
                            b.Insert(at, value);
                            break;
                    }
                }

                using var reader = new StreamReader(new MemoryStream(b.ToArray()), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
                exits[Check(reader.ReadToEnd(), rel + " (bytes)", i)]++;
            }
        }

        Assert.True(exits[ExitCodes.Error] > 0 && exits[ExitCodes.Ok] + exits[ExitCodes.Failed] > 0, string.Join(",", exits));
    }

    [Fact]
    public void RandomLinesNeverCrash()
    {
        var rng = new Random(7);
        for (var i = 0; i < 300; i++)
        {
            var sb = new StringBuilder();
            var lines = 1 + rng.Next(6);
            for (var l = 0; l < lines; l++)
            {
                var words = rng.Next(7);
                for (var w = 0; w < words; w++)
                {
                    sb.Append(Vocabulary[rng.Next(Vocabulary.Length)]).Append(rng.Next(4) == 0 ? "" : " ");
                }

                sb.Append('\n');
            }

            Check(sb.ToString(), "random", i);
        }
    }

    private static int Check(string mutant, string origin, int i)
    {
        RunOutput r;
        try
        {
            r = RunOutput.Run(mutant);
        }
        catch (Exception e)
        {
            Assert.Fail($"{origin} mutant {i} threw {e}\n--- mutant ---\n{mutant}");
            return -1;
        }

        var context = $"{origin} mutant {i}: exit {r.ExitCode}\n--- mutant ---\n{mutant}\n--- stderr ---\n{r.Err}";
        Assert.True(r.ExitCode is ExitCodes.Ok or ExitCodes.Failed or ExitCodes.Error, context);
        if (r.ExitCode == ExitCodes.Error)
        {
            var lines = mutant.TrimStart('\uFEFF').Split('\n');
            Assert.NotEmpty(r.ErrLines);
            foreach (var d in r.ErrLines)
            {
                var m = DiagnosticLine().Match(d);
                Assert.True(m.Success, "not a FILE:LINE:COL diagnostic: " + d + "\n" + context);
                Assert.Equal("t.mms", m.Groups["file"].Value);
                var line = int.Parse(m.Groups["line"].Value);
                var col = int.Parse(m.Groups["col"].Value);
                Assert.InRange(line, 1, lines.Length);
                Assert.InRange(col, 1, lines[line - 1].Length + 1);
            }
        }
        else
        {
            Assert.True(r.Err.Length == 0, context);
        }

        return r.ExitCode;
    }

    private static string Mutate(string text, Random rng)
    {
        var lines = text.Split('\n').ToList();
        switch (rng.Next(9))
        {
            case 0 when text.Length > 0:
                {
                    var at = rng.Next(text.Length);
                    return text[..at] + Alphabet[rng.Next(Alphabet.Length)] + text[(at + 1)..];
                }

            case 1:
                {
                    var at = rng.Next(text.Length + 1);
                    return text[..at] + Alphabet[rng.Next(Alphabet.Length)] + text[at..];
                }

            case 2 when text.Length > 0:
                {
                    var at = rng.Next(text.Length);
                    return text.Remove(at, 1 + rng.Next(Math.Min(5, text.Length - at)));
                }

            case 3 when lines.Count > 1:
                lines.RemoveAt(rng.Next(lines.Count));
                break;
            case 4:
                {
                    var l = rng.Next(lines.Count);
                    lines.Insert(rng.Next(lines.Count + 1), lines[l]);
                    break;
                }

            case 5 when lines.Count > 1:
                {
                    int a = rng.Next(lines.Count), b = rng.Next(lines.Count);
                    (lines[a], lines[b]) = (lines[b], lines[a]);
                    break;
                }

            case 6:
            case 7:
                {
                    var l = rng.Next(lines.Count);
                    var toks = lines[l].Split(' ').ToList();
                    var t = rng.Next(toks.Count);
                    switch (rng.Next(4))
                    {
                        case 0:
                            toks.RemoveAt(t);
                            break;
                        case 1:
                            toks.Insert(t, toks[rng.Next(toks.Count)]);
                            break;
                        case 2:
                            toks[t] = Vocabulary[rng.Next(Vocabulary.Length)];
                            break;
                        default:
                            var u = rng.Next(toks.Count);
                            (toks[t], toks[u]) = (toks[u], toks[t]);
                            break;
                    }

                    lines[l] = string.Join(' ', toks);
                    break;
                }

            default:
                {
                    // Replace a number with an extreme one.
                    var m = Regex.Matches(text, @"\b(0x[0-9a-fA-F_]+|[0-9][0-9_]*)[KMGp]?\b");
                    if (m.Count == 0)
                    {
                        return text;
                    }

                    var hit = m[rng.Next(m.Count)];
                    string[] extremes = ["0", "1", "-1", "0xffffffffffffffff", "0x8000000000000000", "99999999999999999999", "16G", "4G", "0p", "11", "4097"];
                    return text[..hit.Index] + extremes[rng.Next(extremes.Length)] + text[(hit.Index + hit.Length)..];
                }
        }

        return string.Join('\n', lines);
    }
}
