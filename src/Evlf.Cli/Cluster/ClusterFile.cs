namespace Evlf.Cli.Cluster;

/// <summary>One file `evlf cluster` writes: its name in the output folder, its text, and whether it is a script to run.</summary>
internal sealed record ClusterFile(string Name, string Text, bool Executable = false);
