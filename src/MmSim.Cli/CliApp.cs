using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MmSim.Check;
using MmSim.Kernel;
using MmSim.Scenario;

namespace MmSim.Cli;

/// <summary>
/// The mmsim command line: <c>run</c>, <c>demo</c>, <c>check</c>, plus <c>--version</c>, <c>--help</c> and the global
/// <c>--verbose</c> / <c>--log LEVEL</c> that send tracepoints to stderr. Exit codes follow the scenario language:
/// 0 every expectation held, 1 one failed, 2 a malformed file or command line, 3 a simulator bug.
/// </summary>
internal static class CliApp
{
    /// <summary>The levels accepted by <c>--log</c>.</summary>
    public static readonly string[] LogLevels = ["trace", "debug", "information", "warning", "error", "critical", "none"];

    public static int Run(string[] args) => Invoke(Parse(args), new InvocationConfiguration());

    /// <summary>Parse a command line (response files are off: <c>@x</c> is a plain argument).</summary>
    public static ParseResult Parse(IReadOnlyList<string> args) =>
        BuildRoot().Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });

    /// <summary>Invoke a parse result; a command-line error is exit 2 (System.CommandLine's own code is 1).</summary>
    public static int Invoke(ParseResult parse, InvocationConfiguration config)
    {
        var rc = parse.Invoke(config);
        return parse.Errors.Count > 0 && rc != 0 ? ExitCodes.Error : rc;
    }

    public static RootCommand BuildRoot()
    {
        var verbose = new Option<bool>("--verbose", "-v")
        {
            Description = "Log every tracepoint (same as --log trace) to stderr",
            Recursive = true,
        };
        var log = new Option<string?>("--log")
        {
            Description = "Log tracepoints at LEVEL and above to stderr: trace, debug, information, warning, error, critical, none",
            HelpName = "LEVEL",
            Recursive = true,
        };
        log.AcceptOnlyFromAmong(LogLevels);
        var root = new RootCommand("MmSim: a deterministic simulator of the Linux memory-management paths behind BPF maps")
        {
            verbose,
            log,
            RunCommand(verbose, log),
            DemoCommand(verbose, log),
            CheckCommand(),
        };
        foreach (var v in root.Options.OfType<VersionOption>())
        {
            v.Action = new PrintVersion();
        }

        return root;
    }

    /// <summary>The tool's version (the informational version of MmSim.Cli, whatever the entry assembly).</summary>
    public static string Version =>
        typeof(CliApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.Write(Version + "\n");
            return 0;
        }
    }

    private static Command RunCommand(Option<bool> verbose, Option<string?> log)
    {
        var files = new Argument<string[]>("FILE")
        {
            Description = "Scenario files (*.mms), each run from a fresh machine",
            Arity = ArgumentArity.OneOrMore,
        };
        var cmd = new Command("run", "Run scenario files: exit 0 when every expectation held, 1 when one failed, 2 on a malformed file")
        {
            files,
        };
        cmd.SetAction(parse =>
        {
            var cfg = parse.InvocationConfiguration;
            using var lf = CreateLoggerFactory(parse, verbose, log);
            var runner = new ScenarioRunner(cfg.Output, cfg.Error, new RunnerOptions { LoggerFactory = lf });
            return runner.Run(parse.GetValue(files) ?? []);
        });
        return cmd;
    }

    private static Command DemoCommand(Option<bool> verbose, Option<string?> log)
    {
        var sections = new Argument<string[]>("SECTION")
        {
            Description = "Sections to run (default: all); see --list",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var list = new Option<bool>("--list") { Description = "List the sections" };
        var cmd = new Command("demo", "A built-in, annotated tour of the simulator") { sections, list };
        cmd.SetAction(parse =>
        {
            var cfg = parse.InvocationConfiguration;
            using var lf = CreateLoggerFactory(parse, verbose, log);
            return Demo.Run(cfg.Output, cfg.Error, parse.GetValue(sections) ?? [], parse.GetValue(list), lf);
        });
        return cmd;
    }

    private static Command CheckCommand()
    {
        var kernel = new Option<string?>("--kernel") { Description = "Kernel profile (6.12.y, 6.12.0)", HelpName = "PROFILE" };
        var seed = new Option<ulong?>("--seed") { Description = "Seed of the exploration (default 0)", HelpName = "N" };
        var steps = new Option<long?>("--steps") { Description = "Budget: number of checked steps", HelpName = "N" };
        var time = new Option<double?>("--time") { Description = "Budget: seconds (default 60 when no budget is given)", HelpName = "SECONDS" };
        var outFile = new Option<string>("--out")
        {
            Description = "Where the shrunk counterexample is written",
            HelpName = "FILE",
            DefaultValueFactory = _ => "counterexample.mms",
        };
        var shard = new Option<string?>("--shard") { Description = "Run shard I of N (I/N, 0 <= I < N): sequences I, I+N, ...", HelpName = "I/N" };
        var strict = new Option<bool>("--strict") { Description = "Count the kernel's own user-reachable WARNs (known per profile) as violations too" };
        var cmd = new Command("check", "Random whole-system exploration with every invariant checked after every step; exit 0 when the budget ran out with no violation, 1 with a shrunk counterexample written")
        {
            kernel, seed, steps, time, outFile, shard, strict,
        };
        cmd.SetAction(parse =>
        {
            var err = parse.InvocationConfiguration.Error;
            var output = parse.InvocationConfiguration.Output;
            var k = parse.GetValue(kernel);
            var profile = KernelProfile.Default;
            if (k is not null && !KernelProfile.TryGet(k, out profile))
            {
                err.Write($"mmsim check: unknown kernel profile '{k}' (known: {string.Join(", ", KernelProfile.All.Select(p => p.Name))})\n");
                return ExitCodes.Error;
            }

            var (shardIndex, shardCount) = (0, 1);
            if (parse.GetValue(shard) is { } sh && !TryParseShard(sh, out shardIndex, out shardCount))
            {
                err.Write($"mmsim check: --shard {sh}: expected I/N with 0 <= I < N\n");
                return ExitCodes.Error;
            }

            var maxSteps = parse.GetValue(steps);
            var seconds = parse.GetValue(time) ?? (maxSteps is null ? 60 : null);
            if (maxSteps is < 0 || seconds is < 0 or double.NaN)
            {
                err.Write("mmsim check: budgets must not be negative\n");
                return ExitCodes.Error;
            }

            return CheckCli.Run(new CheckOptions
            {
                Profile = profile,
                Seed = parse.GetValue(seed) ?? 0,
                MaxSteps = maxSteps,
                ShardIndex = shardIndex,
                ShardCount = shardCount,
                Strict = parse.GetValue(strict),
            }, seconds, parse.GetValue(outFile)!, output, err);
        });
        return cmd;
    }

    private static bool TryParseShard(string s, out int index, out int count)
    {
        index = 0;
        count = 1;
        var parts = s.Split('/');
        return parts.Length == 2 &&
            int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out index) &&
            int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out count) &&
            count >= 1 && index < count;
    }

    /// <summary>The console logger on stderr at the level of --log/--verbose; the null factory when neither is given.</summary>
    public static ILoggerFactory CreateLoggerFactory(ParseResult parse, Option<bool> verbose, Option<string?> log)
    {
        var level = parse.GetValue(log) ?? (parse.GetValue(verbose) ? "trace" : null);
        if (level is null or "none")
        {
            return NullLoggerFactory.Instance;
        }

        var min = level switch
        {
            "trace" => LogLevel.Trace,
            "debug" => LogLevel.Debug,
            "information" => LogLevel.Information,
            "warning" => LogLevel.Warning,
            "error" => LogLevel.Error,
            _ => LogLevel.Critical,
        };
        return LoggerFactory.Create(b => b
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddSimpleConsole(o => o.SingleLine = true)
            .SetMinimumLevel(min));
    }
}
