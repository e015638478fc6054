namespace FederatedPrompts.Post.Tests.Privacy;

/// <summary>
/// Reference numbers from an independent implementation: about 80 lines of stdlib-only Python (math, decimal),
/// kept outside the repository and written from Mironov, Talwar and Zhang (2019)'s definition rather than from
/// this code or Opacus: A_α = ∫ μ₀(z) ((1 − q) + q·e^((2z − 1)/(2σ²)))^α dz, with A_α − 1 integrated directly
/// (expm1/log1p, trapezoid rule with step σ/50 over [−40σ, α + 40σ], exactly summed with math.fsum);
/// integer orders were also summed as the binomial expansion in 60-digit Decimal arithmetic, and the two agreed
/// to 1e-10 relative. ε is then the minimum over Opacus' default orders of T·RDP(α) + log(1/δ)/(α − 1)
/// (classic) or T·RDP(α) − (log δ + log α)/(α − 1) + log((α − 1)/α) (Balle et al. 2020).
/// </summary>
public static class PrivacyReferenceValues
{
    /// <summary>(q, σ, steps, δ, classic ε, its order, Balle et al. ε, its order).</summary>
    public static TheoryData<double, double, int, double, double, double, double, double> Grid => new()
    {
        { 256 / 60000.0, 1.1, 14063, 1e-5, 3.0083810468350602, 8.8, 2.596655528682193, 8.1 },
        { 0.01, 4.0, 10000, 1e-5, 1.2585747412527875, 20, 1.035490066036297, 17 },
        { 0.001, 0.8, 1000, 1e-6, 1.8686164192193961, 8.6, 1.461875857560185, 8.6 },
        { 0.01, 1.0, 1000, 1e-5, 2.5379828801795385, 7.9, 2.1013652716485463, 7.8 },
        { 0.1, 2.0, 100, 1e-5, 3.0165381626530774, 8.1, 2.5805688086614853, 7.6 },
        { 0.5, 5.0, 10, 1e-5, 1.6933980543828524, 14, 1.4073246214310764, 13 },
        { 0.02, 0.6, 500, 1e-5, 12.981410962250639, 2.4, 11.817079649122308, 2.4 },
        { 0.004, 0.5, 1, 1e-5, 4.419719470566512, 3.8, 3.637551725753779, 3.8 },
        { 0.05, 1.5, 3000, 1e-7, 14.142775268677376, 3.6, 13.306845093992855, 3.5 },
    };
}
