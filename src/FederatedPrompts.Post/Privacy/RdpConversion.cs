namespace FederatedPrompts.Post.Privacy;

/// <summary>How an RDP curve becomes an (ε, δ) guarantee; both minimise over the orders the curve has.</summary>
public enum EpsilonConversion
{
    /// <summary>
    /// Balle, Barthe, Gaboardi, Hsu, Sato, "Hypothesis Testing Interpretations and Rényi Differential
    /// Privacy" (AISTATS 2020), Theorem 21: ε = rdp(α) − (log δ + log α)/(α − 1) + log((α − 1)/α).
    /// What Opacus' get_privacy_spent uses today; never larger than <see cref="Classic"/>.
    /// </summary>
    HypothesisTesting,

    /// <summary>
    /// Mironov, "Rényi Differential Privacy" (CSF 2017), Proposition 3: ε = rdp(α) + log(1/δ)/(α − 1).
    /// What older TF-Privacy and Opacus releases, and the figures published with them, used.
    /// </summary>
    Classic,
}

/// <summary>An (ε, δ) guarantee and the Rényi order that gave the smallest ε.</summary>
public readonly record struct PrivacySpent(double Epsilon, double Delta, double Order);

public static class RdpConversion
{
    /// <summary>
    /// The smallest ε over <paramref name="orders"/> for the composed RDP values <paramref name="rdp"/>
    /// (first order wins ties). A negative bound (possible only for δ near 1) is reported as 0, which it implies.
    /// </summary>
    public static PrivacySpent ToEpsilon(IReadOnlyList<double> orders, IReadOnlyList<double> rdp, double delta,
        EpsilonConversion conversion = EpsilonConversion.HypothesisTesting)
    {
        PrivacyParameters.RequireDelta(delta);
        if (orders.Count == 0 || orders.Count != rdp.Count)
            throw new ArgumentException($"orders and rdp must be non-empty and of equal length, got {orders.Count} and {rdp.Count}");
        double logDelta = Math.Log(delta);
        var best = new PrivacySpent(double.PositiveInfinity, delta, orders[0]);
        for (int i = 0; i < orders.Count; i++)
        {
            double alpha = PrivacyParameters.RequireOrder(orders[i]);
            double epsilon = conversion switch
            {
                EpsilonConversion.HypothesisTesting => rdp[i] - (logDelta + Math.Log(alpha)) / (alpha - 1) + Math.Log((alpha - 1) / alpha),
                EpsilonConversion.Classic => rdp[i] - logDelta / (alpha - 1),
                _ => throw new ArgumentOutOfRangeException(nameof(conversion), conversion, null),
            };
            if (epsilon < best.Epsilon) best = best with { Epsilon = epsilon, Order = alpha };
        }
        return best with { Epsilon = Math.Max(0, best.Epsilon) };
    }
}
