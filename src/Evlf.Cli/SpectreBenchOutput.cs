using Evlf.Bench;
using Spectre.Console;

namespace Evlf.Cli;

/// <summary>`evlf bench`'s output on the terminal: lines as they are, tables drawn by Spectre.Console.</summary>
internal sealed class SpectreBenchOutput : IBenchOutput
{
    public void Line(string text) => Console.WriteLine(text);

    public void Table(IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string>> rows)
    {
        var table = new Table().AddColumns(columns.ToArray());
        foreach (var row in rows) table.AddRow(row.Select(c => new Text(c)));
        AnsiConsole.Write(table);
    }
}
