using Evlf.Cli.Commands;
using Evlf.OnnxHybrid;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Evlf.Cli;

/// <summary>
/// The `evlf` command. Exit codes: 0 success, 2 bad input or usage (one line, no stack trace),
/// 1 internal error.
/// </summary>
internal static class EvlfApp
{
    public const int UserError = 2;
    public const int InternalError = 1;

    static string OneLine(string message) => UserInputException.OneLine(message);

    // errno values .NET puts in IOException.HResult on Unix: no space, read-only file system, disk quota exceeded.
    const int NoSpace = 28, ReadOnlyFileSystem = 30, QuotaExceeded = 122;

    /// <summary>A one-line description of a storage fault the user can fix, or null for any other exception.</summary>
    public static string? StorageProblem(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (x is UnauthorizedAccessException) return $"{OneLine(x.Message).TrimEnd('.')}: evlf may not open or write it (a protected path or a read-only location); check its permissions or choose another folder.";
            if (x is IOException io && (io.HResult & 0xFFFF) is NoSpace or ReadOnlyFileSystem or QuotaExceeded)
                return $"{OneLine(io.Message).TrimEnd('.')}: the disk is full or read-only; free space or choose another output folder.";
        }
        return null;
    }

    public static int Run(string[] args, IAnsiConsole? console = null)
    {
        Evlf.OnnxHybrid.Training.TorchThreads.PreferShortSpin(); // before libtorch loads; see TorchThreads
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("evlf");
            // `evlf --version`: the library as built, the same string a run's manifest records (Provenance).
            config.SetApplicationVersion(Evlf.OnnxHybrid.Training.Provenance.LibraryVersion);
            config.PropagateExceptions();
            config.UseStrictParsing(); // an unknown or misspelt option is an error, never silently dropped
            if (console is not null) config.ConfigureConsole(console);
            config.AddCommand<DistillCommand>("distill")
                .WithDescription("Distil a dataset into a few synthetic images per class (default: MGD3 + EVLF, IPC 10, Fashion-MNIST, the default bundle).")
                .WithExample("distill")
                .WithExample("distill", "--method", "d4m", "--no-evlf", "--ipc", "1", "--out", "runs/d4m-ipc1");
            config.AddCommand<TrainFusionCommand>("train-fusion")
                .WithDescription("Train the EVLF fusion module and projector (the latents, text and fusion stages of distill); writes fusion.onnx, projector.onnx, the training log and the test-split quality.")
                .WithExample("train-fusion", "--out", "runs/fusion");
            config.AddCommand<InspectCommand>("inspect")
                .WithDescription("Describe an ONNX model; --parity compares ONNX Runtime with the TorchSharp importer; --train-check proves it trains.")
                .WithExample("inspect", "model.onnx", "--parity")
                .WithExample("inspect", "model.onnx", "--train-check", "--dim", "seq=16");
            config.AddCommand<PretrainCommand>("pretrain")
                .WithDescription("Train the default bundle (KL-VAE, text UNet, class DiT) on a dataset.");
            config.AddCommand<SampleCommand>("sample")
                .WithDescription("Plain class-conditional sampling from a bundle into a PNG ImageFolder.");
            config.AddCommand<BenchCommand>("bench")
                .WithDescription("Time each stage on this machine: ONNX Runtime vs importer, fusion training, sampling, ConvNet-3 training, k-means, end-to-end distill, and the same stages in PyTorch eager when /usr/bin/python3 has torch; writes bench.json.");
            config.AddCommand<EvalCommand>("eval")
                .WithDescription("Train classifiers on a synthetic set and test them on the real test split; prints accuracy: mean ± std and writes RUN_DIR/eval.json.")
                .WithExample("eval", "--synthetic", "runs/random-ipc10", "--data", "fashion-mnist", "--model", "convnet3", "--epochs", "1000", "--repeats", "5", "--seed", "0");
            config.AddCommand<ReportCommand>("report")
                .WithDescription("Turn run folders into a markdown results table (accuracy, density and coverage, pending cells, published Fashion-MNIST rows) and PNG figures beside it.")
                .WithExample("report", "runs/random-ipc10", "runs/mgd3-evlf-ipc10", "--out", "docs/RESULTS.md")
                .WithExample("report", "runs/d4m-ipc10", "--pending", "d4m+EVLF:10", "--no-metrics");
            config.AddBranch("cluster", cluster =>
            {
                cluster.SetDescription("Write the job files that run a sharded distill on a cluster: shard processes and the finishing run, wave after wave, on one shared run folder.");
                cluster.AddCommand<ClusterSlurmCommand>("slurm")
                    .WithDescription("Slurm: shards.sbatch (a job array), finish.sbatch and submit.sh, which submits every wave as jobs that wait for each other.")
                    .WithExample("cluster", "slurm", "--shards", "8", "--parallel", "4", "--gres", "gpu:1", "--out", "jobs/mgd3", "--", "--method", "mgd3", "--out", "/shared/runs/mgd3", "--cache", "/shared/cache");
                cluster.AddCommand<ClusterK8sCommand>("k8s")
                    .WithDescription("Kubernetes: per wave an Indexed Job of the shards and the finishing Job, and run.sh, which applies them in order with kubectl.")
                    .WithExample("cluster", "k8s", "--shards", "8", "--image", "registry.example/evlf:0.2", "--volume-claim", "evlf-data", "--out", "jobs/mgd3", "--", "--method", "mgd3", "--out", "/data/runs/mgd3");
            });
        });

        // Errors go to stderr as plain single lines (no markup, no wrapping), so scripts can read them.
        var err = Console.Error;
        // `--n N` is the documented spelling of sample's count; Spectre needs long names of two letters or more.
        args = args.Select(a => a == "--n" ? "--count" : a).ToArray();
        try
        {
            return app.Run(args);
        }
        catch (UserInputException e)
        {
            err.WriteLine($"error: {OneLine(e.MessageNaming(OptionFlags.Of))}");
            return UserError;
        }
        catch (AggregateException e) when (e.Flatten().InnerExceptions.OfType<UserInputException>().FirstOrDefault() is { } user)
        {
            // Parallel loops (lazy image decoding in eval, sample, distill) wrap the file's error; it is still the user's.
            err.WriteLine($"error: {OneLine(user.MessageNaming(OptionFlags.Of))}");
            return UserError;
        }
        catch (CommandAppException e)
        {
            // Unknown command or option, missing argument, bad flag value: a usage error.
            err.WriteLine($"error: {OneLine(e.Message)} (see evlf --help)");
            return UserError;
        }
        catch (Exception e) when (StorageProblem(e) is string problem)
        {
            // The disk is full or read-only, or a path may not be written: the user's to fix, one line.
            err.WriteLine($"error: {problem}");
            return UserError;
        }
        catch (Exception e)
        {
            err.WriteLine($"internal error: {e.GetType().Name}: {OneLine(e.Message)}");
            err.WriteLine(Environment.GetEnvironmentVariable("EVLF_DEBUG") == "1" ? e.ToString() : "(set EVLF_DEBUG=1 for the stack trace)");
            return InternalError;
        }
    }
}
