using FederatedPrompts.Post.Tuning;
using static TorchSharp.torch;

namespace FederatedPrompts.Post.Tests.Tuning;

public class DpSgdTests
{
    static readonly DpSettings NoNoise = new(ClipNorm: 1.0, NoiseMultiplier: 0.0, SampleRate: 0.25);

    [Fact]
    public void Clipping_is_per_example_so_one_outlier_moves_the_average_at_most_C_over_the_expected_batch()
    {
        var parameter = zeros(2, 3);
        var ordinary = full(4, 2, 3, 0.01f);                       // four small gradients, each norm ≈ 0.0245 < C
        var outlier = full(1, 2, 3, 1e6f);                         // one example with a huge gradient
        double expectedBatch = 5;
        using var g = new Generator(1);
        var without = DpSgd.PrivatizedGradient(ordinary, parameter, NoNoise, expectedBatch, g);
        var with = DpSgd.PrivatizedGradient(cat([ordinary, outlier]), parameter, NoNoise, expectedBatch, g);

        double moved = (with - without).norm().item<float>();
        Assert.Equal(NoNoise.ClipNorm / expectedBatch, moved, 5);   // clipped to exactly C, divided by the expected batch size
        // Small gradients pass unclipped: their average is the plain sum / expected batch.
        Assert.True(allclose(without, ordinary.sum(dim: 0) / expectedBatch, rtol: 1e-5, atol: 1e-7));
    }

    [Fact]
    public void Noise_has_standard_deviation_sigma_times_C_over_the_expected_batch_and_is_seeded()
    {
        var parameter = zeros(200, 50);
        var dp = new DpSettings(ClipNorm: 2.0, NoiseMultiplier: 1.5, SampleRate: 0.1);
        var a = DpSgd.PrivatizedGradient(null, parameter, dp, expectedBatchSize: 4, new Generator(7));
        var b = DpSgd.PrivatizedGradient(null, parameter, dp, expectedBatchSize: 4, new Generator(7));
        Assert.True(a.eq(b).all().item<bool>());
        Assert.InRange(a.std().item<float>(), 0.75 * 0.97, 0.75 * 1.03);   // σC/B = 1.5·2/4 over 10,000 draws
        Assert.InRange(a.mean().item<float>(), -0.03, 0.03);
    }

    [Fact]
    public void Poisson_sampling_includes_each_example_with_probability_q()
    {
        var random = new Random(3);
        var sizes = Enumerable.Range(0, 2000).Select(_ => DpSgd.PoissonSample(100, 0.05, random).Length).ToArray();
        Assert.Equal(5.0, sizes.Average(), 0);
        Assert.Contains(0, sizes);                                  // batches really vary, empty ones included
        Assert.True(sizes.Max() > 10);
    }

    [Theory]
    [InlineData(0.0, 1.0, 0.5)]
    [InlineData(1.0, -1.0, 0.5)]
    [InlineData(1.0, 1.0, 0.0)]
    [InlineData(1.0, 1.0, 1.5)]
    [InlineData(double.NaN, 1.0, 0.5)]
    public void Invalid_settings_are_rejected(double clip, double sigma, double q) =>
        Assert.Throws<ArgumentException>(() => new DpSettings(clip, sigma, q).Validate());
}
