namespace MmSim.Scenario;

/// <summary>
/// One diagnostic, printed as <c>FILE:LINE:COL: message</c>. Lines and columns are 1-based; a column counts UTF-16
/// code units from the start of the line (a tab counts as one). Line 0 means the file as a whole.
/// </summary>
public sealed record Diagnostic(string File, int Line, int Column, string Message)
{
    public override string ToString() =>
        Line > 0 ? $"{File}:{Line}:{Column}: {Message}" : $"{File}: {Message}";
}

/// <summary>The diagnostics of one file, in source order of discovery.</summary>
public sealed class DiagnosticBag
{
    private readonly List<Diagnostic> _items = [];

    public DiagnosticBag(string file) => File = file;

    public string File { get; }

    public IReadOnlyList<Diagnostic> Items => _items;

    public int Count => _items.Count;

    public bool HasErrors => _items.Count > 0;

    public void Add(int line, int column, string message) => _items.Add(new Diagnostic(File, line, column, message));
}

/// <summary>
/// A semantic error found while a scenario runs (exit 2): an op that is not implemented, a value out of range, a
/// name used the wrong way. Handlers may throw it (or return <see cref="StepResult.ScenarioError"/>); the runner
/// turns it into a <c>FILE:LINE:COL</c> diagnostic and stops the file.
/// </summary>
public sealed class ScenarioException : Exception
{
    public ScenarioException()
    {
    }

    public ScenarioException(string message)
        : base(message)
    {
    }

    public ScenarioException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>A column of the statement's line to point at, or 0 for the statement's op.</summary>
    public int Column { get; init; }
}
