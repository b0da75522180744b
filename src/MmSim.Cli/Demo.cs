using Microsoft.Extensions.Logging;
using MmSim.Scenario;

namespace MmSim.Cli;

/// <summary>
/// <c>mmsim demo</c>: every embedded <c>Demo/*.mms</c> file is a section, in file-name order. A section is an
/// ordinary scenario whose <c>##</c> comment lines are narration, printed as the run reaches them. A later layer
/// adds a section by adding a file (<c>Demo/40-arena.mms</c>); nothing else changes.
/// </summary>
internal static class Demo
{
    private const string Prefix = "demo/";

    /// <summary>A section: its name (the file name without the order prefix and extension) and its text.</summary>
    public sealed record Section(string Name, string File, string Text);

    public static IReadOnlyList<Section> Sections()
    {
        var asm = typeof(Demo).Assembly;
        var sections = new List<Section>();
        foreach (var res in asm.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var s = asm.GetManifestResourceStream(res)!;
            using var reader = new StreamReader(s);
            var file = res[Prefix.Length..];
            var name = Path.GetFileNameWithoutExtension(file);
            var dash = name.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && name[..dash].All(char.IsAsciiDigit))
            {
                name = name[(dash + 1)..];
            }

            sections.Add(new Section(name, res, reader.ReadToEnd()));
        }

        return sections;
    }

    public static int Run(TextWriter output, TextWriter error, IReadOnlyList<string> only, bool list, ILoggerFactory loggerFactory)
    {
        var all = Sections();
        if (list)
        {
            foreach (var s in all)
            {
                output.Write($"{s.Name,-16} {Title(s)}\n");
            }

            return ExitCodes.Ok;
        }

        foreach (var name in only)
        {
            if (!all.Any(s => s.Name == name))
            {
                error.Write($"mmsim demo: unknown section '{name}' (sections: {string.Join(", ", all.Select(s => s.Name))})\n");
                return ExitCodes.Error;
            }
        }

        var chosen = only.Count == 0 ? all : all.Where(s => only.Contains(s.Name)).ToList();
        output.Write("MmSim demo: a tour of the simulator. Each section is a scenario in the language of `mmsim run`,\n");
        output.Write("run on a fresh machine: '#' lines explain, the other lines are its transcript.\n");
        var runner = new ScenarioRunner(output, error, new RunnerOptions { Narrate = true, LoggerFactory = loggerFactory });
        var exit = ExitCodes.Ok;
        for (var i = 0; i < chosen.Count; i++)
        {
            output.Write($"\n== {i + 1}/{chosen.Count} {chosen[i].Name}: {Title(chosen[i])} ==\n");
            exit = Math.Max(exit, runner.RunText(chosen[i].File, chosen[i].Text).ExitCode);
        }

        return exit;
    }

    /// <summary>The section's first <c>##</c> line.</summary>
    private static string Title(Section s)
    {
        foreach (var line in s.Text.Split('\n'))
        {
            var t = line.Trim();
            if (t.StartsWith("##", StringComparison.Ordinal))
            {
                return t[2..].Trim();
            }
        }

        return s.Name;
    }
}
