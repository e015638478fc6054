using FederatedPrompts.Post.Privacy;

namespace FederatedPrompts.Post.Tests.Privacy;

public class SampledGaussianRdpTests
{
    static void AssertRelative(double expected, double actual, double tolerance) =>
        Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Abs(expected), $"expected {expected:R}, got {actual:R}");

    [Theory]
    [InlineData(1.5, 1.0)]
    [InlineData(7, 0.3)]
    [InlineData(63, 12.5)]
    public void Without_subsampling_it_is_the_Gaussian_mechanism(double order, double sigma) =>
        Assert.Equal(order / (2 * sigma * sigma), SampledGaussianRdp.Rdp(1, sigma, order), 1e-15);

    // Orders 2 and 3 by hand from the binomial expansion, in plain arithmetic:
    // A₂ = (1−q)² + 2q(1−q) + q² e^(1/σ²) = 1 + q²(e^(1/σ²) − 1);
    // A₃ = (1−q)³ + 3q(1−q)² + 3q²(1−q) e^(1/σ²) + q³ e^(3/σ²).
    [Theory]
    [InlineData(0.01, 1.0)]
    [InlineData(0.2, 0.7)]
    [InlineData(0.5, 3.0)]
    public void Integer_orders_match_the_hand_summed_binomial_expansion(double q, double sigma)
    {
        double e1 = Math.Exp(1 / (sigma * sigma)), e3 = Math.Exp(3 / (sigma * sigma));
        double a2 = 1 + q * q * (e1 - 1);
        double a3 = Math.Pow(1 - q, 3) + 3 * q * (1 - q) * (1 - q) + 3 * q * q * (1 - q) * e1 + q * q * q * e3;
        AssertRelative(Math.Log(a2), SampledGaussianRdp.Rdp(q, sigma, 2), 1e-12);
        AssertRelative(Math.Log(a3) / 2, SampledGaussianRdp.Rdp(q, sigma, 3), 1e-12);
    }

    // The fractional-order series (erfc terms, alternating coefficients) and the integer-order expansion are
    // different computations; RDP is non-decreasing in the order, so values just either side of an integer
    // order must bracket it.
    [Theory]
    [InlineData(0.01, 1.1, 3)]
    [InlineData(0.3, 0.8, 5)]
    [InlineData(0.004, 0.6, 12)]
    [InlineData(0.9, 2.0, 40)]
    public void Fractional_orders_are_continuous_with_integer_orders(double q, double sigma, int order)
    {
        double below = SampledGaussianRdp.Rdp(q, sigma, order - 1e-7), at = SampledGaussianRdp.Rdp(q, sigma, order),
            above = SampledGaussianRdp.Rdp(q, sigma, order + 1e-7);
        Assert.InRange(at, below * (1 - 1e-9), above * (1 + 1e-9));
        AssertRelative(at, below, 1e-5);
        AssertRelative(at, above, 1e-5);
    }

    // q = 0.01, σ = 2.5, 50 steps: Google's dp_accounting rdp_privacy_accountant_test
    // (test_compute_rdp_poisson_sampled_gaussian, rtol 1e-4). At α = 1.5 today's dp_accounting reports
    // 6.70579741e-4 because it now adds the series' terms' magnitudes (an upper bound); the exact value, as
    // Opacus and older TF-Privacy (0.00065 ± 1e-5) compute it, is 6.500708972150595e-4 by direct numerical
    // integration of A_α (see PrivacyReferenceValues).
    [Theory]
    [InlineData(1.5, 6.500708972150595e-4, 1e-7)]
    [InlineData(2.5, 1.08548710e-03, 1e-4)]
    [InlineData(5, 2.18075656e-03, 1e-4)]
    [InlineData(50, 2.38460375e-02, 1e-4)]
    [InlineData(100, 1.67416308e02, 1e-4)]
    public void Matches_published_dp_accounting_values(double order, double expected, double tolerance) =>
        AssertRelative(expected, 50 * SampledGaussianRdp.Rdp(0.01, 2.5, order), tolerance);

    // Stress cases in the spirit of dp_accounting's test_compute_log_a_equals_mp (tiny q, huge σ, q near 1),
    // against the independent numerical integration of A_α (PrivacyReferenceValues).
    [Theory]
    [InlineData(1e-4, 1.0, 1.5, 1.288537476909047e-08, 1e-6)]
    [InlineData(0.01, 10.0, 20, 1.0068263112022611e-05, 1e-9)]
    [InlineData(0.1, 100.0, 20.5, 1.0252214593980546e-05, 1e-7)]
    [InlineData(0.5, 0.7, 3.3, 2.3870796175525677, 1e-9)]
    [InlineData(0.9, 1.0, 4.5, 2.1188874078319118, 1e-9)]
    [InlineData(0.3, 2.0, 12.7, 0.4443751567706488, 1e-9)]
    [InlineData(1e-3, 1.0, 2, 1.7182803522145153e-06, 1e-9)]
    [InlineData(0.5, 0.5, 1.1, 0.79263177957152, 1e-9)]
    [InlineData(0.9, 0.3, 7.5, 41.54509684090765, 1e-9)]
    [InlineData(0.5, 100.0, 50.5, 0.0006320400365572967, 1e-8)]  // both first terms are below e^−30 here
    public void Matches_direct_numerical_integration(double q, double sigma, double order, double expected, double tolerance) =>
        AssertRelative(expected, SampledGaussianRdp.Rdp(q, sigma, order), tolerance);

    [Fact]
    public void Is_never_negative_even_below_double_resolution()
    {
        foreach (double order in RdpAccountant.DefaultOrders)
            Assert.True(SampledGaussianRdp.Rdp(1e-9, 1.0, order) >= 0, $"order {order}");
    }

    [Theory]
    [InlineData(0.0, 1.0, 2.0, "sampleRate", "0")]
    [InlineData(1.5, 1.0, 2.0, "sampleRate", "1.5")]
    [InlineData(double.NaN, 1.0, 2.0, "sampleRate", "NaN")]
    [InlineData(0.1, 0.0, 2.0, "noiseMultiplier", "0")]
    [InlineData(0.1, -2.0, 2.0, "noiseMultiplier", "-2")]
    [InlineData(0.1, double.NaN, 2.0, "noiseMultiplier", "NaN")]
    [InlineData(0.1, 1.0, 1.0, "order", "1")]
    [InlineData(0.1, 1.0, double.PositiveInfinity, "order", "Infinity")]
    public void Invalid_parameters_are_named_with_their_value(double q, double sigma, double order, string name, string value)
    {
        var error = Assert.Throws<ArgumentException>(() => SampledGaussianRdp.Rdp(q, sigma, order));
        Assert.StartsWith(name + " ", error.Message);
        Assert.EndsWith("got " + value, error.Message);
    }
}
