namespace Evlf.Bench;

/// <summary>Where the bench prints what it measured as it goes: lines of text and tables (the CLI draws them with Spectre.Console).</summary>
public interface IBenchOutput
{
    /// <summary>One line of text.</summary>
    void Line(string text);

    /// <summary>A table with a header row; every row has one cell per column.</summary>
    void Table(IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string>> rows);
}
