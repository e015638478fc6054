using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Soft;

/// <summary>
/// Byzantine-robust aggregation by coordinate (Yin et al., ICML 2018, "Byzantine-Robust Distributed Learning"): at each
/// prompt position, each coordinate of the global vector is the median ("median") or the β-trimmed mean
/// ("trimmed-mean": the ⌊β·m⌋ largest and smallest of the m values dropped, the rest averaged) of the clients' values there.
/// One client can move a median only within the range of the honest values, whatever it uploads; FedAvg it moves without
/// bound. Both are unweighted: example counts are self-reported, and a rule that weighted by them would hand the result
/// to whoever claims most. Positions beyond a shorter prompt use only the prompts that have them, as FedAvg does.
/// </summary>
public sealed class CoordinateWiseSoftStrategy : ISoftPromptAggregationStrategy
{
    /// <summary>One coordinate's global value from the clients' values there, sorted ascending.</summary>
    readonly Func<float[], float> _ofSorted;

    CoordinateWiseSoftStrategy(string name, Func<float[], float> ofSorted) => (Name, _ofSorted) = (name, ofSorted);

    /// <summary>The coordinate-wise median.</summary>
    public static CoordinateWiseSoftStrategy Median() => new("median", Median);

    /// <summary>The coordinate-wise mean after dropping the ⌊<paramref name="trimFraction"/>·m⌋ largest and smallest values (0 ≤ β &lt; 0.5).</summary>
    public static CoordinateWiseSoftStrategy TrimmedMean(double trimFraction)
    {
        var trim = SoftAggregationOptions.CheckedTrim(trimFraction);
        return new("trimmed-mean", sorted => TrimmedMean(sorted, trim));
    }

    public string Name { get; }

    public GlobalSoftPrompt Aggregate(IReadOnlyList<SoftPromptUpload> uploads)
    {
        UploadValidation.CheckSoft(uploads);
        int length = uploads.Max(upload => upload.Vectors.Count), dimension = uploads[0].Vectors[0].Length;
        var global = new float[length][];
        for (var position = 0; position < length; position++)
        {
            var at = uploads.Where(upload => upload.Vectors.Count > position).Select(upload => upload.Vectors[position]).ToArray();
            var values = new float[at.Length];
            global[position] = new float[dimension];
            for (var d = 0; d < dimension; d++)
            {
                for (var k = 0; k < at.Length; k++) values[k] = at[k][d];
                Array.Sort(values);
                global[position][d] = _ofSorted(values);
            }
        }
        return new GlobalSoftPrompt(global, AggregationNotes.NoClustering);
    }

    /// <summary>The middle of sorted <paramref name="sorted"/>; the mean of the two middles for an even count.</summary>
    static float Median(float[] sorted)
    {
        int m = sorted.Length;
        return m % 2 == 1 ? sorted[m / 2] : (float)(((double)sorted[m / 2 - 1] + sorted[m / 2]) / 2);
    }

    static float TrimmedMean(float[] sorted, double trim)
    {
        int cut = (int)Math.Floor(trim * sorted.Length);
        double sum = 0;
        for (var i = cut; i < sorted.Length - cut; i++) sum += sorted[i];
        return (float)(sum / (sorted.Length - 2 * cut));
    }
}
