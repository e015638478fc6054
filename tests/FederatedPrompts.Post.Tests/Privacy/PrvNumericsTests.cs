using System.Numerics;
using FederatedPrompts.Post.Privacy;

namespace FederatedPrompts.Post.Tests.Privacy;

/// <summary>The PRV accountant's numerical parts against direct computation.</summary>
public class PrvNumericsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(64)]
    public void The_transform_equals_the_direct_sum_and_inverts(int n)
    {
        var random = new Random(n);
        var input = Enumerable.Range(0, n).Select(_ => new Complex(random.NextDouble() - 0.5, random.NextDouble() - 0.5)).ToArray();
        var transformed = (Complex[])input.Clone();
        FastFourierTransform.Forward(transformed);
        for (int k = 0; k < n; k++)
        {
            var direct = Complex.Zero;
            for (int j = 0; j < n; j++) direct += input[j] * Complex.FromPolarCoordinates(1, -2 * Math.PI * j * k / n);
            Assert.Equal(0, (transformed[k] - direct).Magnitude, 1e-12);
        }
        FastFourierTransform.Inverse(transformed);
        for (int j = 0; j < n; j++) Assert.Equal(0, (transformed[j] - input[j]).Magnitude, 1e-14);
        Assert.Contains("power-of-two length, got 12", Assert.Throws<ArgumentException>(() => FastFourierTransform.Forward(new Complex[12])).Message);
    }

    [Fact]
    public void Quadrature_integrates_a_sharp_peak_and_a_smooth_curve()
    {
        Assert.Equal(2, GaussKronrod.Integrate(Math.Sin, 0, Math.PI, 1e-14), 1e-14);
        // A Gaussian of width 0.05 off the centre of [−1, 1]: the intervals near its peak are split until it is resolved.
        // (A peak far narrower than the first rule's node spacing can be missed by any quadrature: callers put breakpoints
        // at the scales of their integrand, as TruncatedPrv.Mean does.)
        double width = 0.05;
        Assert.Equal(width * Math.Sqrt(2 * Math.PI), GaussKronrod.Integrate(t => Math.Exp(-(t - 0.3) * (t - 0.3) / (2 * width * width)), -1, 1, 1e-15), 1e-14);
    }

    /// <summary>The discretised PRV keeps all mass, and its shifted grid has the continuous mean (Monte Carlo-free check: q = 1 is N(1/(2σ²), 1/σ²)).</summary>
    [Fact]
    public void Discretising_keeps_mass_and_the_mean_of_the_Gaussian_loss()
    {
        double sigma = 1.5;
        var grid = PrvGrid.Covering(10, 1e-3);
        Assert.True(FastFourierTransform.IsPowerOfTwo(grid.Size));
        Assert.Equal(0, grid[grid.Centre]);
        Assert.True(grid.Low <= -10 && grid.High >= 10);
        var discrete = DiscretePrv.Discretise(new SubsampledGaussianPrv(1, sigma), grid);
        Assert.Equal(1, discrete.Pmf.Sum(), 1e-12);
        double mean = Enumerable.Range(0, grid.Size).Sum(i => discrete.At(i) * discrete.Pmf[i]);
        Assert.Equal(1 / (2 * sigma * sigma), mean, 1e-12);

        // Three copies: mass 1 and three times the mean, whichever way they are composed.
        var cubed = discrete.SelfCompose(3);
        var convolved = discrete.Compose(discrete).Compose(discrete);
        foreach (var sum in new[] { cubed, convolved })
        {
            Assert.Equal(1, sum.Pmf.Sum(), 1e-10);
            Assert.Equal(3 / (2 * sigma * sigma), Enumerable.Range(0, grid.Size).Sum(i => sum.At(i) * sum.Pmf[i]), 1e-9);
        }
        for (int i = 0; i < grid.Size; i += 997) Assert.Equal(cubed.Pmf[i], convolved.Pmf[i], 1e-12);
    }

    [Fact]
    public void A_grid_too_large_is_refused_with_what_it_would_need() =>
        Assert.Contains("more than the 67108864 it allows", Assert.Throws<ArgumentException>(() => PrvGrid.Covering(1000, 1e-6)).Message);
}
