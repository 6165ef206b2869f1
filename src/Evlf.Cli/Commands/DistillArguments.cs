using Evlf.OnnxHybrid;
using Evlf.OnnxHybrid.Distillation;
using Spectre.Console.Cli;

namespace Evlf.Cli.Commands;

/// <summary>
/// The `evlf distill` arguments that `evlf cluster` writes into its job files (what follows <c>--</c>), checked now as
/// `evlf distill` checks them, so that a mistake shows before the jobs queue.
/// </summary>
internal static class DistillArguments
{
    /// <summary>The sharding flags evlf cluster writes itself (or that have no place in a cluster job).</summary>
    static readonly string[] Refused = ["--shards", "--shard-index", "--workers"];

    /// <summary>
    /// Parses <paramref name="arguments"/> as `evlf distill` does (strictly) into its settings and library options;
    /// throws a <see cref="UserInputException"/> when they are not a valid distill command line, carry a sharding flag, or
    /// lack --out.
    /// </summary>
    public static (DistillCommand.Settings Settings, DistillOptions Options) Parse(IReadOnlyList<string> arguments)
    {
        if (arguments.FirstOrDefault(a => Refused.Any(flag => Names(a, flag))) is string given)
            throw new UserInputException($"the distill arguments after -- must not give {Refused.First(flag => Names(given, flag))}: evlf cluster adds --shards and --shard-index itself, and the scheduler runs the shards.");
        if (!arguments.Any(a => Names(a, "--out")))
            throw new UserInputException("the distill arguments after -- must give --out DIR: every process of a cluster run reads and writes that one run folder, so it must be named, on a file system all nodes share.");

        DistillCommand.Settings? settings = null;
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.PropagateExceptions();
            config.UseStrictParsing();
            config.AddDelegate<DistillCommand.Settings>("distill", (_, s, _) =>
            {
                settings = s;
                return 0;
            });
        });
        try
        {
            app.Run(["distill", .. arguments]);
        }
        catch (CommandAppException e)
        {
            throw new UserInputException($"the distill arguments after -- are not a valid distill command line: {UserInputException.OneLine(e.Message)}", e);
        }
        if (settings is null) throw new UserInputException("the distill arguments after -- asked for help; give the arguments of the distill run instead.");
        try
        {
            var options = DistillCommand.Options(settings);
            options.Validate();
            return (settings, options);
        }
        catch (UserInputException e)
        {
            throw new UserInputException($"the distill arguments after -- are not a valid distill command line: {e.MessageNaming(OptionFlags.Of)}", e);
        }
    }

    /// <summary>Whether <paramref name="argument"/> gives <paramref name="flag"/> (also as --flag=value).</summary>
    static bool Names(string argument, string flag) =>
        argument == flag || argument.StartsWith(flag + "=", StringComparison.Ordinal) || argument.StartsWith(flag + ":", StringComparison.Ordinal);
}
