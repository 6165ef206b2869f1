using Evlf.OnnxHybrid.Training;

namespace Evlf.OnnxHybrid.Tests.Training;

public class EpochSamplerTests
{
    [Fact]
    public void ABatchIsAPureFunctionOfTheStepSoAResumedRunSeesTheSameBatches()
    {
        // 10 samples in batches of 3: 3 full batches an epoch, the tenth sample of each permutation left out.
        var straight = new EpochSampler(10, 3, seed: 7);
        Assert.Equal(3, straight.StepsPerEpoch);
        var batches = Enumerable.Range(0, 6).Select(s => straight.Indices(s).data<long>().ToArray()).ToList();
        var resumed = new EpochSampler(10, 3, seed: 7);
        for (int s = 5; s >= 0; s--) Assert.Equal(batches[s], resumed.Indices(s).data<long>().ToArray());

        var epoch0 = batches.Take(3).SelectMany(b => b).ToList();
        var epoch1 = batches.Skip(3).SelectMany(b => b).ToList();
        Assert.Equal(9, epoch0.Distinct().Count());
        Assert.All(epoch0, i => Assert.InRange(i, 0, 9));
        Assert.NotEqual(epoch0, epoch1);   // a new permutation each epoch
        Assert.NotEqual(batches[0], new EpochSampler(10, 3, seed: 8).Indices(0).data<long>().ToArray());
    }
}
