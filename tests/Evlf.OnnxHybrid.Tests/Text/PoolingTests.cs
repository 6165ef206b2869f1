using Evlf.OnnxHybrid.Text;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Text;

public sealed class PoolingTests
{
    const long Eos = 9;

    // Two rows of L = 5, D = 2; token (i, j) embeds to (10·i + j, −(10·i + j)) so each position is recognisable.
    static Tensor Tokens()
    {
        var values = new float[2 * 5 * 2];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 5; j++)
            {
                values[(i * 5 + j) * 2] = 10 * i + j;
                values[(i * 5 + j) * 2 + 1] = -(10 * i + j);
            }
        return tensor(values, new long[] { 2, 5, 2 });
    }

    // Row 0: BOS 4 EOS, padded with EOS (SD 1.x). Row 1: BOS 4 5 EOS, padded with 0 (OpenCLIP).
    static readonly Tensor Ids = tensor(new long[] { 1, 4, Eos, Eos, Eos, 1, 4, 5, Eos, 0 }, new long[] { 2, 5 });
    static readonly Tensor Mask = tensor(new long[] { 1, 1, 1, 0, 0, 1, 1, 1, 1, 0 }, new long[] { 2, 5 });

    static float[,] Pool(PoolingRule rule)
    {
        using var pooled = Pooling.Pool(Tokens(), Ids, Mask, rule, Eos);
        Assert.Equal(new long[] { 2, 2 }, pooled.shape);
        var v = pooled.data<float>().ToArray();
        return new[,] { { v[0], v[1] }, { v[2], v[3] } };
    }

    [Fact]
    public void Eos_takes_the_first_eos() => Assert.Equal(new float[,] { { 2, -2 }, { 13, -13 } }, Pool(PoolingRule.Eos));

    [Fact]
    public void Last_pad_takes_the_last_eos_which_is_the_last_pad_when_padding_with_eos() =>
        Assert.Equal(new float[,] { { 4, -4 }, { 13, -13 } }, Pool(PoolingRule.LastPad));

    [Fact]
    public void Mean_averages_unmasked_positions() =>
        // Row 0: (0+1+2)/3; row 1: (10+11+12+13)/4.
        Assert.Equal(new float[,] { { 1, -1 }, { 11.5f, -11.5f } }, Pool(PoolingRule.Mean));

    [Fact]
    public void Cls_takes_position_zero() => Assert.Equal(new float[,] { { 0, 0 }, { 10, -10 } }, Pool(PoolingRule.Cls));

    [Fact]
    public void Mean_of_an_all_padding_row_is_zero_not_nan()
    {
        using var pooled = Pooling.Pool(ones(1, 3, 2), zeros(1, 3, dtype: ScalarType.Int64), zeros(1, 3, dtype: ScalarType.Int64), PoolingRule.Mean, Eos);
        Assert.All(pooled.data<float>().ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void A_row_without_eos_is_an_error_not_position_zero()
    {
        var ids = tensor(new long[] { 1, 4, 5, 0, 0 }, new long[] { 1, 5 });
        var e = Assert.Throws<ArgumentException>(() => Pooling.Pool(ones(1, 5, 2), ids, ones(1, 5, dtype: ScalarType.Int64), PoolingRule.Eos, Eos));
        Assert.Contains("no EOS id 9", e.Message);
    }

    [Fact]
    public void Eos_positions_are_reported_per_row()
    {
        Assert.Equal(new long[] { 2, 3 }, Pooling.EosPositions(Ids, Eos, last: false));
        Assert.Equal(new long[] { 4, 3 }, Pooling.EosPositions(Ids, Eos, last: true));
    }

    [Fact]
    public void Shapes_are_checked()
    {
        Assert.Throws<ArgumentException>(() => Pooling.Pool(ones(2, 5), Ids, Mask, PoolingRule.Cls, Eos));
        Assert.Throws<ArgumentException>(() => Pooling.Pool(ones(2, 4, 2), Ids, Mask, PoolingRule.Mean, Eos));
    }
}
