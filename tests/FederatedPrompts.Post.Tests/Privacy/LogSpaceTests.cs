using FederatedPrompts.Post.Privacy;

namespace FederatedPrompts.Post.Tests.Privacy;

public class LogSpaceTests
{
    // log(math.erfc(x)) from CPython 3's math module (an implementation independent of this one).
    [Theory]
    [InlineData(-3, 0.6931361352504468)]
    [InlineData(-0.5, 0.41903914777555956)]
    [InlineData(0, 0.0)]
    [InlineData(0.3, -0.3984300514400853)]
    [InlineData(1, -1.8496055099332482)]
    [InlineData(1.9, -4.932345862780269)]
    [InlineData(2, -5.364941264616638)]
    [InlineData(2.1, -5.816010968867555)]
    [InlineData(3.5, -14.112437402148174)]
    [InlineData(5, -27.200889545537436)]
    [InlineData(10, -102.87988902484489)]
    [InlineData(26, -679.8311997631943)]
    public void Log_erfc_matches_an_independent_erfc(double x, double expected) =>
        Assert.Equal(expected, LogSpace.LogErfc(x), 1e-13 * Math.Max(1, Math.Abs(expected)));

    // Where erfc underflows: erfc(x) = e^(−x²)/(x√π) · (1 − 1/(2x²) + 3/(4x⁴) − 15/(8x⁶) + …) (A&S 7.1.23),
    // whose truncation error at x ≥ 30 is below 1e-11.
    [Theory]
    [InlineData(30)]
    [InlineData(100)]
    [InlineData(1e4)]
    public void Log_erfc_follows_the_asymptotic_series_far_out(double x)
    {
        double x2 = x * x;
        double expected = -x2 - Math.Log(x * Math.Sqrt(Math.PI)) + Math.Log(1 - 1 / (2 * x2) + 3 / (4 * x2 * x2) - 15 / (8 * x2 * x2 * x2));
        Assert.Equal(expected, LogSpace.LogErfc(x), 1e-11 * Math.Abs(expected));
    }

    [Fact]
    public void Log1p_keeps_the_digits_of_tiny_arguments()
    {
        Assert.Equal(1e-12 - 0.5e-24, LogSpace.Log1P(1e-12), 1e-30);
        Assert.Equal(-1e-7 - 0.5e-14, LogSpace.Log1P(-1e-7), 1e-21);
        Assert.Equal(Math.Log(3), LogSpace.Log1P(2), 1e-15);
    }

    [Fact]
    public void Log_space_addition_and_subtraction_agree_with_plain_arithmetic_and_survive_huge_exponents()
    {
        Assert.Equal(Math.Log(5), LogSpace.Add(Math.Log(2), Math.Log(3)), 1e-15);
        Assert.Equal(Math.Log(1), LogSpace.Subtract(Math.Log(3), Math.Log(2)), 1e-15);
        Assert.Equal(2000 + Math.Log(2), LogSpace.Add(2000, 2000), 1e-12);
        Assert.Equal(-5000.0, LogSpace.Add(-5000, double.NegativeInfinity));
        Assert.Equal(double.NegativeInfinity, LogSpace.Subtract(7, 7));
        Assert.Throws<InvalidOperationException>(() => LogSpace.Subtract(1, 2));
    }
}
