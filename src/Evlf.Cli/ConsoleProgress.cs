using Evlf.OnnxHybrid;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Evlf.Cli;

/// <summary>
/// Progress for long work: Spectre progress bars on an interactive terminal, one plain line every so often
/// otherwise (logs, CI), nothing with --quiet. Reports are taken on the calling thread.
/// </summary>
internal sealed class ConsoleProgress
{
    readonly bool quiet;
    readonly bool interactive = AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;

    public ConsoleProgress(bool quiet) => this.quiet = quiet;

    /// <summary>Runs <paramref name="work"/> with a reporter that creates one bar per named task.</summary>
    public T Run<T>(Func<Reporter, T> work)
    {
        if (quiet || !interactive) return work(new Reporter(null, quiet));
        T result = default!;
        AnsiConsole.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx => result = work(new Reporter(ctx, quiet)));
        return result;
    }

    public void Run(Action<Reporter> work) => Run<int>(r => { work(r); return 0; });

    /// <summary>The console log of a command that shows no progress bars (see <see cref="Reporter"/>).</summary>
    public static ILogger Log(bool quiet, string prefix = "") => new Reporter(null, quiet, prefix);

    /// <summary>
    /// The library's progress (<see cref="IProgress{WorkProgress}"/>) and log (<see cref="ILogger"/>) on the console:
    /// Information and below only without --quiet, warnings always ("warning: …"), all on standard error or above the bars.
    /// </summary>
    public sealed class Reporter : IProgress<WorkProgress>, ILogger
    {
        readonly ProgressContext? context;
        readonly bool quiet;
        readonly string prefix;
        readonly Dictionary<string, ProgressTask> tasks = new();
        readonly Dictionary<string, DateTime> lastLine = new();
        readonly HashSet<string> finished = new();

        internal Reporter(ProgressContext? context, bool quiet, string prefix = "")
        {
            this.context = context;
            this.quiet = quiet;
            this.prefix = prefix;
        }

        /// <summary>Sets task <paramref name="name"/> to done/total, with an optional status text.</summary>
        public void Report(string name, double done, double total, string? status = null)
        {
            if (quiet) return;
            if (context is not null)
            {
                if (!tasks.TryGetValue(name, out var task)) tasks[name] = task = context.AddTask(Markup.Escape(name), maxValue: Math.Max(total, 1));
                task.MaxValue = Math.Max(total, 1);
                task.Value = done;
                task.Description = Markup.Escape(status is null ? name : $"{name} {status}");
                return;
            }
            var now = DateTime.UtcNow;
            if (done < total && lastLine.TryGetValue(name, out var last) && (now - last).TotalSeconds < 30) return;
            // A task that reports its end twice (the sampling loop's last step, then the stage) prints it once.
            if (done >= total && !finished.Add(name)) return;
            if (done < total) finished.Remove(name);
            lastLine[name] = now;
            Console.Error.WriteLine(FormattableString.Invariant($"{name}: {done:0}/{total:0}{(status is null ? "" : " " + status)}"));
        }

        public void Report(WorkProgress value) => Report(value.Task, value.Done, value.Total, value.Status);

        public void Log(string message)
        {
            if (quiet) return;
            Write(message);
        }

        void Write(string line)
        {
            if (context is not null) AnsiConsole.MarkupLine(Markup.Escape(line));
            else Console.Error.WriteLine(line);
        }

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            string message = formatter(state, exception);
            Write(logLevel >= LogLevel.Warning ? $"warning: {message}" : prefix + message);
        }

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning || (!quiet && logLevel >= LogLevel.Information);

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    }
}
