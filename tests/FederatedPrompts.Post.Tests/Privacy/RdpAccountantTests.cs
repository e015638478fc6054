using FederatedPrompts.Post.Privacy;

namespace FederatedPrompts.Post.Tests.Privacy;

public class RdpAccountantTests
{
    [Fact]
    public void Default_orders_are_Opacus_defaults()
    {
        var orders = RdpAccountant.DefaultOrders;
        Assert.Equal(151, orders.Count);
        Assert.Equal([1.1, 1.2, 1.3], orders.Take(3));
        Assert.Equal(10.9, orders[98]);
        Assert.Equal([12.0, 13.0], orders.Skip(99).Take(2));
        Assert.Equal(63.0, orders[^1]);
    }

    [Theory]
    [MemberData(nameof(PrivacyReferenceValues.Grid), MemberType = typeof(PrivacyReferenceValues))]
    public void Matches_the_independent_implementation(double q, double sigma, int steps, double delta,
        double classicEpsilon, double classicOrder, double epsilon, double order)
    {
        var classic = RdpAccountant.Epsilon(q, sigma, steps, delta, EpsilonConversion.Classic);
        Assert.Equal(classicEpsilon, classic.Epsilon, 1e-7 * classicEpsilon);
        Assert.Equal(classicOrder, classic.Order);
        var spent = RdpAccountant.Epsilon(q, sigma, steps, delta);
        Assert.Equal(epsilon, spent.Epsilon, 1e-7 * epsilon);
        Assert.Equal(order, spent.Order);
        Assert.True(spent.Epsilon < classic.Epsilon);
    }

    // TF-Privacy's MNIST DP-SGD tutorial: N = 60000, batch 256, σ = 1.1, 60 epochs (⌈60·60000/256⌉ = 14063
    // steps), δ = 1e-5 is reported as ε = 3.01 by compute_dp_sgd_privacy, which used the classic conversion.
    [Fact]
    public void Reproduces_the_TF_Privacy_MNIST_tutorial_epsilon() =>
        Assert.Equal(3.01, Math.Round(RdpAccountant.Epsilon(256 / 60000.0, 1.1, 14063, 1e-5, EpsilonConversion.Classic).Epsilon, 2));

    // Abadi et al., "Deep Learning with Differential Privacy" (CCS 2016), Section 3.1: q = 0.01, σ = 4,
    // δ = 1e-5, T = 10000 gives ε ≈ 1.26 with the moments accountant (the classic RDP conversion).
    [Fact]
    public void Reproduces_Abadi_et_al_moments_accountant_example() =>
        Assert.Equal(1.26, Math.Round(RdpAccountant.Epsilon(0.01, 4, 10000, 1e-5, EpsilonConversion.Classic).Epsilon, 2));

    // q = 1 is the Gaussian mechanism: T·α/(2σ²) per order, so ε is the minimum of the closed form over the
    // same orders, and no smaller than the minimum over all α: T/(2σ²) + √(2T log(1/δ))/σ (classic conversion).
    [Theory]
    [InlineData(2.0, 10, 1e-5)]
    [InlineData(10.0, 100, 1e-6)]
    [InlineData(0.9, 1, 1e-3)]
    public void Full_batch_is_the_closed_form_Gaussian(double sigma, int steps, double delta)
    {
        double ClosedForm(double a) => steps * a / (2 * sigma * sigma) - (Math.Log(delta) + Math.Log(a)) / (a - 1) + Math.Log((a - 1) / a);
        double expected = RdpAccountant.DefaultOrders.Min(ClosedForm);
        Assert.Equal(expected, RdpAccountant.Epsilon(1, sigma, steps, delta).Epsilon, 1e-12 * expected);

        double classic = RdpAccountant.Epsilon(1, sigma, steps, delta, EpsilonConversion.Classic).Epsilon;
        double bestOverAllOrders = steps / (2 * sigma * sigma) + Math.Sqrt(2 * steps * Math.Log(1 / delta)) / sigma;
        Assert.InRange(classic, bestOverAllOrders, bestOverAllOrders * 1.05);
    }

    [Fact]
    public void Epsilon_grows_with_steps_and_sample_rate_and_shrinks_with_noise()
    {
        double Eps(double q, double sigma, int steps) => RdpAccountant.Epsilon(q, sigma, steps, 1e-5).Epsilon;
        Assert.True(Eps(0.01, 1, 100) < Eps(0.01, 1, 1000));
        Assert.True(Eps(0.01, 1, 1000) < Eps(0.01, 1, 10000));
        Assert.True(Eps(0.001, 1, 1000) < Eps(0.01, 1, 1000));
        Assert.True(Eps(0.01, 1, 1000) < Eps(0.1, 1, 1000));
        Assert.True(Eps(0.1, 1, 1000) < Eps(1, 1, 1000));
        Assert.True(Eps(0.01, 2, 1000) < Eps(0.01, 1, 1000));
        Assert.True(Eps(0.01, 1, 1000) < Eps(0.01, 0.7, 1000));
    }

    [Fact]
    public void Recorded_segments_compose_by_adding_rdp()
    {
        var accountant = new RdpAccountant();
        accountant.Record(0.01, 1.0, 300);
        var afterFirstRound = accountant.GetEpsilon(1e-5);
        accountant.Record(0.01, 1.0, 700);
        var oneSegment = RdpAccountant.Epsilon(0.01, 1.0, 1000, 1e-5);
        Assert.Equal(oneSegment.Epsilon, accountant.GetEpsilon(1e-5).Epsilon, 1e-12);
        Assert.Equal(oneSegment.Order, accountant.GetEpsilon(1e-5).Order);
        Assert.Equal(RdpAccountant.Epsilon(0.01, 1.0, 300, 1e-5), afterFirstRound);

        accountant.Record(0.05, 2.0, 50);
        Assert.Equal([new(0.01, 1.0, 300), new(0.01, 1.0, 700), new SampledGaussianSteps(0.05, 2.0, 50)], accountant.History);
        for (int i = 0; i < accountant.Orders.Count; i++)
        {
            double a = accountant.Orders[i];
            double expected = 1000 * SampledGaussianRdp.Rdp(0.01, 1.0, a) + 50 * SampledGaussianRdp.Rdp(0.05, 2.0, a);
            Assert.Equal(expected, accountant.Rdp[i], 1e-12 * expected);
        }
    }

    [Fact]
    public void A_rejected_segment_leaves_the_accountant_unchanged()
    {
        var accountant = new RdpAccountant();
        accountant.Record(0.01, 1.0, 10);
        var before = accountant.GetEpsilon(1e-5);
        Assert.Throws<ArgumentException>(() => accountant.Record(0.01, double.NaN, 10));
        Assert.Throws<ArgumentException>(() => accountant.Record(0.01, 1.0, 0));
        Assert.Equal(before, accountant.GetEpsilon(1e-5));
        Assert.Single(accountant.History);
    }

    [Theory]
    [InlineData(3.0, 1e-5, 256 / 60000.0, 14063)]
    [InlineData(1.0, 1e-5, 0.01, 1000)]
    [InlineData(8.0, 1e-6, 0.1, 500)]
    [InlineData(0.5, 1e-5, 0.001, 100)]
    [InlineData(2.0, 1e-5, 1.0, 1)]
    public void Calibrated_noise_spends_just_under_the_target(double targetEpsilon, double delta, double q, int steps)
    {
        double sigma = RdpAccountant.NoiseForEpsilon(targetEpsilon, delta, q, steps);
        double epsilon = RdpAccountant.Epsilon(q, sigma, steps, delta).Epsilon;
        Assert.InRange(epsilon, targetEpsilon - 0.01, targetEpsilon);
    }

    // Inverting the TF-Privacy tutorial (σ = 1.1 gives classic ε = 3.00838..., see PrivacyReferenceValues):
    // calibrating to that ε must land near σ = 1.1 (ε tolerance 0.01 moves σ by well under 0.01 here).
    [Fact]
    public void Calibration_inverts_a_known_epsilon()
    {
        double sigma = RdpAccountant.NoiseForEpsilon(3.0083810468350602, 1e-5, 256 / 60000.0, 14063, EpsilonConversion.Classic);
        Assert.InRange(sigma, 1.1, 1.11);
    }

    [Fact]
    public void Unreachable_epsilon_is_explained()
    {
        // Over orders ≤ 63 and δ = 1e-5, even infinite noise leaves ε ≈ 0.1.
        var error = Assert.Throws<ArgumentException>(() => RdpAccountant.NoiseForEpsilon(0.05, 1e-5, 0.01, 100));
        Assert.Contains("cannot be reached", error.Message);
    }

    [Theory]
    [InlineData(0.0, 1e-5, 0.01, 100, "targetEpsilon", "0")]
    [InlineData(-1.0, 1e-5, 0.01, 100, "targetEpsilon", "-1")]
    [InlineData(double.NaN, 1e-5, 0.01, 100, "targetEpsilon", "NaN")]
    [InlineData(1.0, 0.0, 0.01, 100, "delta", "0")]
    [InlineData(1.0, 1.0, 0.01, 100, "delta", "1")]
    [InlineData(1.0, 1e-5, 0.0, 100, "sampleRate", "0")]
    [InlineData(1.0, 1e-5, 1.01, 100, "sampleRate", "1.01")]
    [InlineData(1.0, 1e-5, 0.01, 0, "steps", "0")]
    public void Invalid_calibration_parameters_are_named_with_their_value(double epsilon, double delta, double q, int steps, string name, string value)
    {
        var error = Assert.Throws<ArgumentException>(() => RdpAccountant.NoiseForEpsilon(epsilon, delta, q, steps));
        Assert.StartsWith(name + " ", error.Message);
        Assert.EndsWith("got " + value, error.Message);
    }

    [Fact]
    public void Invalid_epsilon_query_names_the_parameter()
    {
        Assert.StartsWith("steps ", Assert.Throws<ArgumentException>(() => RdpAccountant.Epsilon(0.01, 1, 0, 1e-5)).Message);
        Assert.StartsWith("noiseMultiplier ", Assert.Throws<ArgumentException>(() => RdpAccountant.Epsilon(0.01, -1, 10, 1e-5)).Message);
        Assert.StartsWith("delta ", Assert.Throws<ArgumentException>(() => RdpAccountant.Epsilon(0.01, 1, 10, 2)).Message);
    }
}
