namespace Evlf.OnnxHybrid.Training;

/// <summary>
/// What a training loss carries from step to step besides the weights and the optimizer (e.g. Minimax's memories), saved
/// into each checkpoint's folder and read back on resume, so that a resumed run continues exactly where it stopped.
/// </summary>
public interface ICheckpointedState
{
    /// <summary>Writes the state into <paramref name="folder"/> (the checkpoint being written).</summary>
    void Save(string folder);

    /// <summary>Replaces the state with what <see cref="Save"/> wrote into <paramref name="folder"/>.</summary>
    void Load(string folder);
}
