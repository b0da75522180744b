namespace MmSim.Cli;

/// <summary>The mmsim command line (placeholder until the scenario runner lands).</summary>
internal static class CliApp
{
    public static int Run(string[] args)
    {
        Console.WriteLine("mmsim: " + string.Join(' ', args));
        return 0;
    }
}
