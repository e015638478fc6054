using FederatedPrompts.Post.Privacy;

namespace FederatedPrompts.Post.Tests.Privacy;

public class RdpConversionTests
{
    static readonly double[] Orders2To32 = [.. Enumerable.Range(2, 31).Select(a => (double)a)];

    // dp_accounting's test_compute_epsilon_delta_pure_dp: constant RDP 1.1 (pure DP) over orders 2..32 picks
    // the largest order; by hand 1.1 − (log 1e-5 + log 32)/31 + log(31/32) = 1.32783806176.
    [Fact]
    public void Constant_rdp_picks_the_largest_order_as_computed_by_hand()
    {
        var spent = RdpConversion.ToEpsilon(Orders2To32, [.. Orders2To32.Select(_ => 1.1)], 1e-5);
        Assert.Equal(1.32783806176, spent.Epsilon, 1e-10);
        Assert.Equal(32, spent.Order);
        Assert.Equal(1e-5, spent.Delta);
    }

    [Fact]
    public void Classic_conversion_is_rdp_plus_log_inverse_delta_over_alpha_minus_one()
    {
        var spent = RdpConversion.ToEpsilon(Orders2To32, [.. Orders2To32.Select(_ => 1.1)], 1e-5, EpsilonConversion.Classic);
        Assert.Equal(1.1 + Math.Log(1e5) / 31, spent.Epsilon, 1e-12);
        Assert.Equal(32, spent.Order);
    }

    // dp_accounting's test_compute_epsilon_delta_gaussian: the Gaussian mechanism with σ = 4.530877117 is
    // exactly (1, 1e-6)-DP, and the Balle et al. conversion over the fine orders 1.000..99.999 recovers ε = 1.
    [Fact]
    public void Fine_orders_recover_the_exact_Gaussian_guarantee()
    {
        double[] orders = [.. Enumerable.Range(1000, 99000).Select(i => 0.001 * i).Where(a => a > 1)];
        double[] rdp = [.. orders.Select(a => SampledGaussianRdp.Rdp(1, 4.530877117, a))];
        Assert.Equal(1, RdpConversion.ToEpsilon(orders, rdp, 1e-6).Epsilon, 1e-6);
    }

    [Fact]
    public void A_bound_below_zero_is_reported_as_zero()
    {
        // For δ near 1, −(log δ + log α)/(α − 1) + log((α − 1)/α) < 0 at large α, and rdp here is tiny.
        Assert.Equal(0, RdpConversion.ToEpsilon([63], [1e-6], 0.5).Epsilon);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-1e-5)]
    [InlineData(double.NaN)]
    public void Delta_outside_zero_one_is_rejected(double delta)
    {
        var error = Assert.Throws<ArgumentException>(() => RdpConversion.ToEpsilon([2], [0.1], delta));
        Assert.StartsWith("delta must be in (0, 1), got ", error.Message);
    }

    [Fact]
    public void Orders_and_rdp_must_pair_up() =>
        Assert.Throws<ArgumentException>(() => RdpConversion.ToEpsilon([2, 3], [0.1], 1e-5));
}
