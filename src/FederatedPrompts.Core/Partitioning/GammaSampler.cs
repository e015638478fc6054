namespace FederatedPrompts.Core.Partitioning;

/// <summary>
/// Gamma(shape, 1) draws by Marsaglia &amp; Tsang (2000), "A simple method for generating gamma variables", from a
/// caller-seeded <see cref="Random"/>; shape &lt; 1 uses their boost Gamma(shape + 1)·U^(1/shape). Normals come from
/// Box–Muller.
/// </summary>
public static class GammaSampler
{
    public static double Sample(Random random, double shape)
    {
        if (!(shape > 0) || double.IsInfinity(shape)) throw new ArgumentOutOfRangeException(nameof(shape), shape, "must be positive and finite");
        if (shape < 1) return Sample(random, shape + 1) * Math.Pow(1 - random.NextDouble(), 1 / shape);
        var d = shape - 1.0 / 3;
        var c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = StandardNormal(random);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            var u = 1 - random.NextDouble(); // in (0, 1], so the log is finite
            if (u < 1 - 0.0331 * x * x * x * x) return d * v;
            if (Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }

    /// <summary>A Dirichlet(α, …, α) draw of <paramref name="count"/> proportions: normalised Gamma(α) draws.</summary>
    public static double[] SymmetricDirichlet(Random random, double alpha, int count)
    {
        var draws = Enumerable.Range(0, count).Select(_ => Sample(random, alpha)).ToArray();
        var total = draws.Sum();
        // Tiny α can underflow every draw to 0; the limit of Dirichlet(α → 0) puts all mass on one component, chosen uniformly.
        if (total == 0)
        {
            var winner = random.Next(count);
            return Enumerable.Range(0, count).Select(i => i == winner ? 1.0 : 0.0).ToArray();
        }
        return draws.Select(draw => draw / total).ToArray();
    }

    static double StandardNormal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
