using System.Numerics;

namespace FederatedPrompts.Post.Privacy;

/// <summary>
/// The grid a PRV is discretised on: t_i = (i − Centre)·Step for i = 0 … Size − 1, with Centre = Size/2 − 1, so the
/// grid runs from −Centre·Step to (Centre + 1)·Step and holds 0. Opacus aligns [−L, L] to multiples of the mesh and
/// takes the even size 2⌈L/Step⌉ + 2; this grid has the same points and the same centre, extended on both sides to a
/// power of two for the radix-2 transform. Extending is safe: Gopi et al.'s error bound needs the domain to be at
/// least L wide, and a wider one only truncates less.
/// </summary>
internal sealed record PrvGrid(int Size, double Step)
{
    /// <summary>2²⁶ points: a 1 GiB complex buffer for the transform. A run that needs more is refused, not swapped.</summary>
    public const int MaxSize = 1 << 26;

    public int Centre => Size / 2 - 1;
    public double Low => -Centre * Step;
    public double High => (Centre + 1) * Step;
    public double this[int i] => (i - Centre) * Step;

    /// <summary>The grid of mesh <paramref name="step"/> that covers [−<paramref name="halfWidth"/>, <paramref name="halfWidth"/>].</summary>
    public static PrvGrid Covering(double halfWidth, double step)
    {
        if (!(halfWidth > 0) || !(step > 0)) throw new ArgumentException($"the grid needs a positive half-width and step, got {halfWidth} and {step}");
        double points = 2 * Math.Ceiling(halfWidth / step) + 2;
        if (points > MaxSize)
            throw new ArgumentException($"the PRV accountant would need a grid of {points:G3} points (half-width {halfWidth:G4}, mesh {step:G3}), " +
                $"more than the {MaxSize} it allows; use the RDP accountant, or a larger epsilon error");
        return new PrvGrid((int)BitOperations.RoundUpToPowerOf2((uint)points), step);
    }
}

/// <summary>
/// A privacy loss distribution on a <see cref="PrvGrid"/> shifted by <see cref="Offset"/>: mass Pmf[i] at
/// grid[i] + Offset. Discretising, composing and reading ε off it follow Opacus' PRV accountant (after Gopi et al.'s
/// prv_accountant): each cell gets the truncated PRV's mass in [t − Step/2, t + Step/2), the grid is shifted so the
/// discrete mean equals the continuous one, T identical steps compose by raising the transform to the power T, and
/// different steps by linear convolution.
/// </summary>
internal sealed class DiscretePrv
{
    readonly double[] _pmf;
    double[]? _massAbove, _weightedMassAbove;

    DiscretePrv(double[] pmf, PrvGrid grid, double offset)
    {
        _pmf = pmf;
        Grid = grid;
        Offset = offset;
    }

    public PrvGrid Grid { get; }
    public double Offset { get; }
    public IReadOnlyList<double> Pmf => _pmf;

    /// <summary>The loss at cell i.</summary>
    public double At(int i) => Grid[i] + Offset;

    public static DiscretePrv Discretise(SubsampledGaussianPrv prv, PrvGrid grid)
    {
        var truncated = new TruncatedPrv(prv, grid.Low, grid.High);
        var pmf = new double[grid.Size];
        double half = grid.Step / 2;
        Parallel.For(0, grid.Size, i => pmf[i] = truncated.Probability(grid[i] - half, grid[i] + half));
        double discreteMean = 0;
        for (int i = 0; i < pmf.Length; i++) discreteMean += grid[i] * pmf[i];
        double shift = truncated.Mean() - discreteMean;
        if (Math.Abs(shift) >= half)
            throw new InvalidOperationException($"the discretised PRV's mean is {Math.Abs(shift):G3} from the continuous one, " +
                $"not within half the mesh ({half:G3}), for q = {prv.SampleRate}, σ = {prv.NoiseMultiplier}");
        return new DiscretePrv(pmf, grid, shift);
    }

    /// <summary>
    /// The sum of <paramref name="times"/> independent copies: the transform to that power, inverted (a circular
    /// convolution), rolled so that the sum's cells line up with the grid again. Each copy adds its offset.
    /// </summary>
    public DiscretePrv SelfCompose(int times)
    {
        PrivacyParameters.RequireSteps(times, nameof(times));
        if (times == 1) return this;
        var spectrum = new Complex[Grid.Size];
        for (int i = 0; i < spectrum.Length; i++) spectrum[i] = _pmf[i];
        FastFourierTransform.Forward(spectrum);
        for (int i = 0; i < spectrum.Length; i++)
        {
            var z = spectrum[i];
            double magnitude = z.Magnitude;
            spectrum[i] = magnitude == 0 ? Complex.Zero : Complex.FromPolarCoordinates(Math.Pow(magnitude, times), times * z.Phase);
        }
        FastFourierTransform.Inverse(spectrum);

        // A sum of indices s stands for the loss (s − times·Centre)·Step, which is cell s − (times − 1)·Centre: with
        // Centre = Size/2 − 1 that is a roll by (times − 1), plus Size/2 when times is even (Opacus' roll).
        int n = Grid.Size;
        long roll = ((times - 1L) + (times % 2 == 0 ? n / 2 : 0)) % n;
        var pmf = new double[n];
        for (int i = 0; i < n; i++) pmf[(int)((i + roll) % n)] = spectrum[i].Real;
        return new DiscretePrv(pmf, Grid, Offset * times);
    }

    /// <summary>The sum of this and an independent <paramref name="other"/> on the same grid (linear convolution, cut to the grid).</summary>
    public DiscretePrv Compose(DiscretePrv other)
    {
        if (other.Grid != Grid) throw new ArgumentException("both PRVs must be on the same grid");
        int n = Grid.Size;
        var left = new Complex[2 * n];
        var right = new Complex[2 * n];
        for (int i = 0; i < n; i++)
        {
            left[i] = _pmf[i];
            right[i] = other._pmf[i];
        }
        FastFourierTransform.Forward(left);
        FastFourierTransform.Forward(right);
        for (int i = 0; i < left.Length; i++) left[i] *= right[i];
        FastFourierTransform.Inverse(left);
        // Index sum s stands for (s − 2·Centre)·Step: cell s − Centre of the grid.
        var pmf = new double[n];
        for (int i = 0; i < n; i++) pmf[i] = left[i + Grid.Centre].Real;
        return new DiscretePrv(pmf, Grid, Offset + other.Offset);
    }

    /// <summary>
    /// The smallest ε on the grid's resolution with δ(ε) ≤ <paramref name="delta"/>, where δ(ε) = Σ_{t_j ≥ t_i} p_j·(1 −
    /// e^(ε − t_j)) is the hockey-stick divergence of the discrete distribution: find the first cell i whose δ(t_i) is
    /// at most the target, then solve δ(ε) = target exactly within it: ε = log((D1_i − δ)/D2_i) with D1_i = Σ_{j≥i} p_j
    /// and D2_i = Σ_{j≥i} p_j e^(−t_j) (Opacus' find_epsilon).
    /// </summary>
    public double EpsilonAt(double delta)
    {
        if (_massAbove is null) Accumulate();
        double[] d1 = _massAbove!, d2 = _weightedMassAbove!;
        // δ(t_i) = d1[i] − e^(t_i)·d2[i] falls with i: binary search for the first cell with −δ(t_i) ≥ −delta.
        int low = 0, high = d1.Length;
        while (low < high)
        {
            int middle = (low + high) / 2;
            if (Math.Exp(At(middle)) * d2[middle] - d1[middle] < -delta) low = middle + 1;
            else high = middle;
        }
        // Cell 0 (Opacus raises there) means δ(t) ≤ delta on the whole grid: the same formula then solves δ(ε) = delta
        // below it, ε = log((1 − delta)/E[e^(−Y)]) ≈ log(1 − delta) ≤ 0, so a search over σ never stops at an error.
        if (low >= d1.Length)
            throw new InvalidOperationException($"δ = {delta:G3} is not reached anywhere on the grid [{At(0):G4}, {At(d1.Length - 1):G4}]");
        return Math.Log((d1[low] - delta) / d2[low]);
    }

    void Accumulate()
    {
        int n = _pmf.Length;
        var d1 = new double[n];
        var d2 = new double[n];
        double mass = 0, weighted = 0;
        for (int i = n - 1; i >= 0; i--)
        {
            mass += _pmf[i];
            weighted += _pmf[i] * Math.Exp(-At(i));
            d1[i] = mass;
            d2[i] = weighted;
        }
        (_massAbove, _weightedMassAbove) = (d1, d2);
    }
}
