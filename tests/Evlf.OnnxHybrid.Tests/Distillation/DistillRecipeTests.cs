using Evlf.OnnxHybrid.Distillation;

namespace Evlf.OnnxHybrid.Tests.Distillation;

/// <summary>
/// Each method's stages as docs/CLI.md and docs/ARCHITECTURE.md describe them; DistillationPipelineTests checks that a
/// run's manifest lists the stages its recipe names.
/// </summary>
public class DistillRecipeTests
{
    [Theory]
    [InlineData(DistillMethod.Random, true, false, "select")]
    [InlineData(DistillMethod.Herding, true, false, "embedding select")]
    [InlineData(DistillMethod.Dit, true, false, "latents modes sample")]       // --evlf does not apply to dit
    [InlineData(DistillMethod.Dit, false, true, "latents modes finetune sample")]
    [InlineData(DistillMethod.D4m, false, false, "latents modes sample")]
    [InlineData(DistillMethod.D4m, true, false, "latents text fusion fuse modes sample")]
    [InlineData(DistillMethod.Mgd3, false, true, "latents modes finetune sample")]
    [InlineData(DistillMethod.Mgd3, true, false, "latents text fusion fuse modes sample")]
    [InlineData(DistillMethod.Mgd3, true, true, "latents text fusion fuse modes finetune sample")]
    [InlineData(DistillMethod.Minimax, false, false, "latents modes minimax sample")]
    [InlineData(DistillMethod.Minimax, true, false, "latents text fusion fuse modes minimax sample")]
    public void EachMethodRunsTheStagesTheDocsName(DistillMethod method, bool evlf, bool finetune, string stages)
    {
        var recipe = DistillRecipe.For(new DistillOptions { Method = method, Evlf = evlf, Finetune = finetune });
        Assert.Equal(method, recipe.Method);
        Assert.Equal(stages.Split(' '), recipe.Stages);
    }

    // Herding's embedding network trains before the first stage that embeds with it, once.
    [Theory]
    [InlineData(ModeKind.Centroid, 10, "latents text fusion fuse modes sample embedding choose")]
    [InlineData(ModeKind.Herding, 1, "latents text fusion fuse embedding modes sample")]
    [InlineData(ModeKind.Herding, 10, "latents text fusion fuse embedding modes sample choose")]
    public void HerdingsNetworkTrainsBeforeTheFirstStageThatEmbeds(ModeKind modes, int candidates, string stages) =>
        Assert.Equal(stages.Split(' '), DistillRecipe.For(new DistillOptions { Method = DistillMethod.Mgd3, Modes = modes, Candidates = candidates }).Stages);

    // A scheduler runs one wave (shards, then the finishing run) per sharded stage: encode, [fuse,] sample; random and
    // herding one, whose shards have nothing to do (evlf cluster renders this many).
    [Theory]
    [InlineData(DistillMethod.Random, false, 1)]
    [InlineData(DistillMethod.Herding, false, 1)]
    [InlineData(DistillMethod.Dit, false, 2)]
    [InlineData(DistillMethod.D4m, false, 2)]
    [InlineData(DistillMethod.D4m, true, 3)]
    [InlineData(DistillMethod.Mgd3, false, 2)]
    [InlineData(DistillMethod.Mgd3, true, 3)]
    [InlineData(DistillMethod.Minimax, false, 2)]
    [InlineData(DistillMethod.Minimax, true, 3)]
    public void AClusterRunTakesOneWavePerShardedStage(DistillMethod method, bool evlf, int waves)
    {
        Assert.Equal(waves, DistillRecipe.For(new DistillOptions { Method = method, Evlf = evlf }).Waves);
        Assert.Equal(waves, DistillRecipe.For(new DistillOptions { Method = method, Evlf = evlf, Finetune = method is not (DistillMethod.Random or DistillMethod.Herding or DistillMethod.Minimax) }).Waves);
    }

    [Fact]
    public void TheFullestRecipeIsTheGenerativeOrderOfStageNames()
    {
        var recipe = DistillRecipe.For(new DistillOptions { Method = DistillMethod.D4m, Evlf = true, Finetune = true });
        Assert.Equal(StageNames.Generative, recipe.Stages);
        Assert.True(recipe.Runs(StageNames.Finetune));
        Assert.False(recipe.Runs(StageNames.Select));
    }

    [Fact]
    public void ThePresetsDifferOnlyInHowTheGenerativeMethodsSample()
    {
        Assert.Equal(new DistillOptions(), DistillOptions.Released);
        Assert.Equal(DistillOptions.For(DistillMethod.Mgd3), DistillOptions.Default);
        // The default run trains the fusion module on a fifth of the released pass; the released recipe on every image.
        Assert.Equal(DistillOptions.DefaultFusionSamples, DistillOptions.Default.FusionTraining.MaxSamples);
        Assert.Null(DistillOptions.Released.FusionTraining.MaxSamples);
        foreach (var method in Enum.GetValues<DistillMethod>())
        {
            var released = DistillOptions.For(method, DistillPreset.Released);
            // Minimax's released pipeline has no EVLF.
            Assert.Equal(new DistillOptions { Method = method, Evlf = method != DistillMethod.Minimax }, released);
            var preset = DistillOptions.For(method);
            if (!released.UsesGenerativeModel) Assert.Equal(released, preset);
            else Assert.Equal(released, preset with
            {
                Start = released.Start, Strength = released.Strength, Candidates = released.Candidates, Selection = released.Selection,
                Modes = released.Modes, Cfg = released.Cfg, GuidanceInterval = released.GuidanceInterval,
                FusionTraining = released.FusionTraining,
            });
        }
    }

    [Theory]
    [InlineData(1, null, false, CandidateSelection.Discriminative)]
    [InlineData(3, null, false, CandidateSelection.Discriminative)]
    [InlineData(4, null, false)]
    [InlineData(9, null, false)]
    [InlineData(10, SampleStart.Real, false)]
    [InlineData(49, SampleStart.Real, false)]
    [InlineData(50, SampleStart.Real, true)]
    [InlineData(100, SampleStart.Real, true)]
    public void TheDefaultPresetChoosesMgd3DiscriminativelyUpToIpc3StartsFromRealLatentsFromIpc10UpAndKeepsTheirDetailFromIpc50Up(int ipc, SampleStart? start, bool detail,
        CandidateSelection selection = CandidateSelection.Herding)
    {
        var options = DistillOptions.For(DistillMethod.Mgd3, DistillPreset.Default, ipc);
        Assert.Equal((ipc, start, 10, detail, selection), (options.Ipc, options.Start, options.Candidates, options.RealDetail, options.Selection));
        Assert.Equal(start is null ? new DistillOptions().Strength : detail ? DistillOptions.DefaultRealDetailStrength : DistillOptions.DefaultRealStrength,
            options.Strength);
        // What the preset asks for is a valid run.
        options.Validate();
        // The other generative methods and the released preset keep their own start at every IPC.
        foreach (var method in new[] { DistillMethod.Dit, DistillMethod.D4m, DistillMethod.Minimax })
        {
            Assert.Null(DistillOptions.For(method, DistillPreset.Default, ipc).Start);
            Assert.Equal(CandidateSelection.Herding, DistillOptions.For(method, DistillPreset.Default, ipc).Selection);
        }
        Assert.Null(DistillOptions.For(DistillMethod.Mgd3, DistillPreset.Released, ipc).Start);
        Assert.False(DistillOptions.For(DistillMethod.Mgd3, DistillPreset.Released, ipc).RealDetail);
        Assert.Equal(DistillOptions.For(DistillMethod.Mgd3, DistillPreset.Default, 10), DistillOptions.Default);
    }
}
