using static TorchSharp.torch;

namespace FederatedPrompts.Post.Tuning;

/// <summary>DP-SGD settings: per-example clip norm C, noise multiplier σ, and Poisson sampling rate q.</summary>
public sealed record DpSettings(double ClipNorm, double NoiseMultiplier, double SampleRate)
{
    public void Validate()
    {
        if (!(ClipNorm > 0) || double.IsInfinity(ClipNorm)) throw new ArgumentException($"clip norm must be positive and finite, got {ClipNorm}");
        if (!(NoiseMultiplier >= 0) || double.IsInfinity(NoiseMultiplier)) throw new ArgumentException($"noise multiplier must be non-negative and finite, got {NoiseMultiplier}");
        if (!(SampleRate > 0 && SampleRate <= 1)) throw new ArgumentException($"sample rate must lie in (0,1], got {SampleRate}");
    }
}

/// <summary>
/// The DP-SGD mechanism of Abadi et al. (2016) as the RDP accountant assumes it: each step samples every example
/// independently with probability q (Poisson sampling), clips each example's gradient to L2 norm C, adds
/// N(0, σ²C²) to the sum, and divides by the expected batch size q·N (a fixed denominator, so the sensitivity of
/// the released average is C/(qN) whatever the realised batch size).
/// </summary>
public static class DpSgd
{
    /// <summary>Indices of a Poisson-sampled batch: each of 0..n−1 independently with probability q.</summary>
    public static int[] PoissonSample(int n, double q, Random random) =>
        Enumerable.Range(0, n).Where(_ => random.NextDouble() < q).ToArray();

    /// <summary>
    /// Per-example gradients [B, ...] of <paramref name="parameter"/> (null for an empty batch) → the noisy clipped
    /// average, shaped and placed like the parameter. Noise is drawn on the CPU from <paramref name="noise"/>, so a
    /// seed reproduces it on any device.
    /// </summary>
    public static Tensor PrivatizedGradient(Tensor? perExample, Tensor parameter, DpSettings dp, double expectedBatchSize, Generator noise)
    {
        using var scope = NewDisposeScope();
        long[] parameterShape = parameter.shape;
        var sum = zeros(parameterShape, device: parameter.device);
        if (perExample is not null && perExample.shape[0] > 0)
        {
            var flat = perExample.reshape(perExample.shape[0], -1);
            // Scale each row to norm ≤ C: factor min(1, C/‖g‖).
            var factors = (dp.ClipNorm / (flat.norm(1, keepdim: true) + 1e-12)).clamp_max(1.0);
            sum = (flat * factors).sum(dim: 0).reshape(parameterShape);
        }
        var noisy = sum + (randn(parameterShape, generator: noise) * (dp.NoiseMultiplier * dp.ClipNorm)).to(parameter.device);
        return (noisy / expectedBatchSize).MoveToOuterDisposeScope();
    }
}
