using System.Text.Json;
using Evlf.OnnxHybrid.Onnx;
using TorchSharp;
using static TorchSharp.torch;
using OptimizerHelper = TorchSharp.Modules.OptimizerHelper;

namespace Evlf.OnnxHybrid.Training;

/// <summary>
/// A resumable training stage's state on disk: each module's weights as an ONNX file (written back by the
/// importer), the optimizer's state, and how far the loop got. Written atomically (into a temporary
/// folder, then renamed), so a run killed at any moment resumes from the last complete checkpoint.
/// </summary>
public sealed class TrainingCheckpoint
{
    public sealed record Progress(long Step, double[] Losses);

    readonly string dir;

    public TrainingCheckpoint(string directory)
    {
        dir = Path.GetFullPath(directory);
        // A run killed between the two renames of Save leaves only the previous checkpoint under .old-*.
        string parent = Path.GetDirectoryName(dir)!;
        if (!System.IO.Directory.Exists(dir) && System.IO.Directory.Exists(parent))
        {
            var old = System.IO.Directory.GetDirectories(parent, Path.GetFileName(dir) + ".old-*").OrderByDescending(System.IO.Directory.GetLastWriteTimeUtc).FirstOrDefault();
            if (old is not null) System.IO.Directory.Move(old, dir);
        }
    }

    public string Directory => dir;

    public bool Exists => File.Exists(Path.Combine(dir, "progress.json"));

    /// <summary>The checkpointed model of a module, or a freshly built one when there is no checkpoint yet.</summary>
    public OnnxModel ModelOr(string name, Func<OnnxModel> fresh) =>
        Exists ? OnnxModel.Load(Path.Combine(dir, name + ".onnx")) : fresh();

    /// <summary>How far the checkpointed run got, with the optimizer's state and <paramref name="state"/> read back; null when there is no checkpoint.</summary>
    public Progress? LoadProgress(OptimizerHelper optimizer, ICheckpointedState? state = null)
    {
        if (!Exists) return null;
        var progress = JsonSerializer.Deserialize<Progress>(File.ReadAllText(Path.Combine(dir, "progress.json")))!;
        optimizer.load_state_dict(Path.Combine(dir, "optimizer.bin"));
        state?.Load(dir);
        return progress;
    }

    /// <summary>Writes the modules, the optimizer, <paramref name="state"/> and the progress as the new checkpoint, replacing the last one at once.</summary>
    public void Save(IReadOnlyDictionary<string, OnnxTorchModule> modules, OptimizerHelper optimizer, Progress progress, ICheckpointedState? state = null)
    {
        string parent = Path.GetDirectoryName(Path.GetFullPath(dir))!;
        System.IO.Directory.CreateDirectory(parent);
        string tmp = Path.Combine(parent, "." + Path.GetFileName(dir) + ".tmp-" + Environment.ProcessId);
        if (System.IO.Directory.Exists(tmp)) System.IO.Directory.Delete(tmp, true);
        System.IO.Directory.CreateDirectory(tmp);
        foreach (var (name, module) in modules) module.Save(Path.Combine(tmp, name + ".onnx"));
        optimizer.save_state_dict(Path.Combine(tmp, "optimizer.bin"));
        state?.Save(tmp);
        File.WriteAllText(Path.Combine(tmp, "progress.json"), JsonSerializer.Serialize(progress));
        string old = dir + ".old-" + Environment.ProcessId;
        if (System.IO.Directory.Exists(dir)) System.IO.Directory.Move(dir, old);
        System.IO.Directory.Move(tmp, dir);
        if (System.IO.Directory.Exists(old)) System.IO.Directory.Delete(old, true);
    }
}
