using System.Security.Cryptography;
using Evlf.OnnxHybrid.Fusion;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Distillation.Stages;

/// <summary>
/// Which training images a run reads the latent of, plain and flipped: bool masks over the training split. The latents
/// stage encodes only these rows, so its key holds them.
/// </summary>
internal sealed record LatentRows(Tensor Plain, Tensor Flipped)
{
    /// <summary>Names the rows in a stage key.</summary>
    public string Key => RunFolder.Key(new { plain = Hash(Plain), flipped = Hash(Flipped) });

    static string Hash(Tensor mask) => Convert.ToHexString(SHA256.HashData(mask.to(ScalarType.Byte).data<byte>().ToArray()));

    /// <summary>
    /// The rows a distill reads: the modes take each image plain or flipped by its coin (<paramref name="flipMask"/>,
    /// shape (n, 1, 1, 1)), and fusion training, when it runs, draws its pool (<paramref name="fusionPool"/>) both ways.
    /// </summary>
    public static LatentRows ForModes(Tensor flipMask, Tensor? fusionPool)
    {
        var flipped = flipMask.reshape(flipMask.shape[0]).clone();
        var plain = flipped.logical_not();
        if (fusionPool is not null)
        {
            plain = plain.logical_or(fusionPool);
            flipped = flipped.logical_or(fusionPool);
        }
        return new LatentRows(plain, flipped);
    }

    /// <summary>The fusion training pool (<see cref="FusionTrainer.Pool"/>) as a bool mask over the <paramref name="n"/> training images.</summary>
    public static Tensor PoolMask(long n, DistillOptions options) =>
        zeros(n, dtype: ScalarType.Bool).index_fill_(0, FusionTrainer.Pool(n, options.FusionTraining, options.Seed), true);
}
