using FederatedPrompts.Aggregation.Clustering;

namespace FederatedPrompts.Aggregation.Tests;

public sealed class NoisePolicyTests
{
    /// <summary>Client 0 has α = .1, .2, .3, .4 (median .25); client 1 has .5, .5 (median .5).</summary>
    static readonly int[] Client = [0, 0, 0, 0, 1, 1];
    static readonly double[] Attention = [0.1, 0.2, 0.3, 0.4, 0.5, 0.5];

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    [InlineData(4, false)] // equal to its client's median is not above it
    public void Noise_is_kept_only_above_its_own_clients_median_attention(int point, bool kept)
    {
        Assert.Equal(kept, NoisePolicy.Keep(point, Client, Attention));
    }

    [Fact]
    public void Odd_count_median_is_the_middle_value()
    {
        Assert.Equal([false, false, true], new[] { 0, 1, 2 }.Select(i => NoisePolicy.Keep(i, [0, 0, 0], [0.2, 0.3, 0.5])));
    }
}
