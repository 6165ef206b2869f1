using Microsoft.Extensions.Logging;

namespace Evlf.OnnxHybrid.Tests;

/// <summary>Collects what the library logs, level and message.</summary>
internal sealed class ListLogger : ILogger
{
    public readonly List<(LogLevel Level, string Message)> Lines = new();

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Add((logLevel, formatter(state, exception)));

    public bool IsEnabled(LogLevel logLevel) => true;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
}
