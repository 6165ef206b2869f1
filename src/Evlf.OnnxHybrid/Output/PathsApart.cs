using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Output;

/// <summary>
/// Keeps what evlf writes apart from what it reads: an output folder may not be an input, lie inside one, or hold one
/// (a run writing into its own dataset would later read its outputs as data; one writing into its bundle would replace the
/// model it runs). Checked before any work, on paths with their links resolved (<see cref="ResolvedPath"/>).
/// </summary>
public static class PathsApart
{
    /// <summary>
    /// One named path: the option that gave it, by its library name (e.g. "DistillOptions.Out"; the CLI's messages show
    /// its flag, <see cref="UserInputException.MessageNaming"/>) or a phrase ("the figures folder"), and the path (null: not given).
    /// </summary>
    public readonly record struct Named(string Option, string? Path);

    /// <summary>Throws a <see cref="UserInputException"/> when an output and an input overlap, or two outputs are one folder.</summary>
    /// <param name="outputs">The folders evlf writes.</param>
    /// <param name="inputs">The files and folders it reads.</param>
    /// <param name="inputsMayLieInside">For an output folder that receives single named files (bench.json) rather than
    /// folders evlf owns: inputs may lie inside it, as long as it is not inside an input.</param>
    public static void Require(IEnumerable<Named> outputs, IEnumerable<Named> inputs, bool inputsMayLieInside = false)
    {
        var resolvedOutputs = outputs.Where(o => o.Path is not null).Select(o => (o, Real: ResolvedPath.Of(o.Path!))).ToList();
        var resolvedInputs = inputs.Where(i => i.Path is not null).Select(i => (i, Real: ResolvedPath.Of(i.Path!))).ToList();
        foreach (var (output, outReal) in resolvedOutputs)
        {
            foreach (var (input, inReal) in resolvedInputs)
            {
                if (ResolvedPath.IsSameOrInside(outReal, inReal))
                    throw UserInputException.ForOptions(outReal == inReal
                        ? $"{output.Option} '{output.Path}' is the folder of {input.Option} '{input.Path}'; evlf never writes into its inputs, so point {output.Option} outside it."
                        : $"{output.Option} '{output.Path}' lies inside {input.Option} '{input.Path}'; evlf never writes into its inputs, so point {output.Option} outside it.",
                        [output.Option, input.Option]);
                if (!inputsMayLieInside && ResolvedPath.IsSameOrInside(inReal, outReal))
                    throw UserInputException.ForOptions($"{input.Option} '{input.Path}' lies inside {output.Option} '{output.Path}'; keep inputs out of the folders evlf writes, so choose another {output.Option}.",
                        [input.Option, output.Option]);
            }
            foreach (var (other, otherReal) in resolvedOutputs)
                if (other.Option != output.Option && otherReal == outReal)
                    throw UserInputException.ForOptions($"{output.Option} and {other.Option} are the same folder '{output.Path}'; expected two different folders.",
                        [output.Option, other.Option]);
        }
    }

    /// <summary>The folder a data spec reads (null when it cannot be found; opening the data reports that).</summary>
    public static string? DataFolder(string spec)
    {
        var parsed = DataSpec.Parse(spec);
        if (parsed.Kind != DataSpecKind.FashionMnist) return parsed.Directory;
        try
        {
            return FashionMnist.Locate();
        }
        catch (UserInputException)
        {
            return null;
        }
    }
}
