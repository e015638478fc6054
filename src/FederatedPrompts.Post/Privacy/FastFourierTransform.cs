using System.Numerics;

namespace FederatedPrompts.Post.Privacy;

/// <summary>
/// The discrete Fourier transform of a length that is a power of two (iterative radix-2 Cooley–Tukey), for composing
/// discretised privacy loss distributions: a convolution of probability vectors is a product of their transforms.
/// Twiddle factors come from one table of cos/sin per call (no recurrence), so the rounding error of a value grows
/// with log₂ n only: about 1e-16 · log₂ n relative to the vector's largest entry.
/// </summary>
internal static class FastFourierTransform
{
    /// <summary>
    /// In place: X_k = Σ_j x_j e^(∓2πi jk/n), the minus sign forward; the inverse divides by n, so
    /// Inverse(Forward(x)) = x.
    /// </summary>
    public static void Forward(Complex[] data) => Transform(data, inverse: false);

    public static void Inverse(Complex[] data) => Transform(data, inverse: true);

    public static bool IsPowerOfTwo(long n) => n > 0 && (n & (n - 1)) == 0;

    static void Transform(Complex[] data, bool inverse)
    {
        int n = data.Length;
        if (!IsPowerOfTwo(n)) throw new ArgumentException($"the transform takes a power-of-two length, got {n}");

        for (int i = 1, j = 0; i < n; i++)   // bit-reversal permutation
        {
            int bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1) j ^= bit;
            j ^= bit;
            if (i < j) (data[i], data[j]) = (data[j], data[i]);
        }

        var twiddles = new Complex[n / 2];
        double sign = inverse ? 2 * Math.PI / n : -2 * Math.PI / n;
        for (int k = 0; k < twiddles.Length; k++)
        {
            var (sin, cos) = Math.SinCos(sign * k);
            twiddles[k] = new Complex(cos, sin);
        }

        for (int length = 2; length <= n; length <<= 1)
        {
            int half = length / 2, stride = n / length;
            for (int start = 0; start < n; start += length)
                for (int k = 0; k < half; k++)
                {
                    var even = data[start + k];
                    var odd = data[start + k + half] * twiddles[k * stride];
                    data[start + k] = even + odd;
                    data[start + k + half] = even - odd;
                }
        }

        if (inverse)
            for (int i = 0; i < n; i++) data[i] /= n;
    }
}
