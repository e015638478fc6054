using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Soft;

/// <summary>
/// Multi-Krum (Blanchard et al., NeurIPS 2017, "Machine Learning with Adversaries: Byzantine Tolerant Gradient Descent";
/// the multi- variant as in El Mhamdi et al., ICML 2018): with n prompts of which at most f may be hostile, each prompt
/// is scored by the sum of squared Euclidean distances to its n − f − 2 nearest other prompts (whole prompts, all
/// positions together), and the global prompt is the plain mean of the m = n − f best-scored. A hostile prompt far from
/// the honest ones scores high and is left out, whatever example count it claims (counts are not used). f is the most
/// Krum tolerates, ⌊(n − 3) / 2⌋ (it needs n &gt; 2f + 2), and 0 below three prompts, where it is the plain mean.
/// Unlike the coordinate-wise rules it compares prompts as wholes, so every upload must have the same length.
/// </summary>
public sealed class KrumSoftStrategy : ISoftPromptAggregationStrategy
{
    public string Name => "krum";

    public GlobalSoftPrompt Aggregate(IReadOnlyList<SoftPromptUpload> uploads)
    {
        UploadValidation.CheckSoft(uploads);
        int n = uploads.Count, length = uploads[0].Vectors.Count;
        var different = uploads.FirstOrDefault(u => u.Vectors.Count != length);
        if (different is not null)
            throw new ArgumentException($"krum compares whole prompts: client '{different.ClientId}' uploaded {different.Vectors.Count} vectors, client '{uploads[0].ClientId}' {length}");
        int f = Math.Max(0, (n - 3) / 2), neighbours = Math.Max(0, n - f - 2), kept = n - f;
        var flat = uploads.Select(u => u.Vectors.SelectMany(v => v).ToArray()).ToArray();
        var scores = Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Where(j => j != i)
            .Select(j => SquaredDistance(flat[i], flat[j])).Order().Take(neighbours).Sum()).ToArray();
        var chosen = Enumerable.Range(0, n).OrderBy(i => scores[i]).ThenBy(i => i).Take(kept).ToArray();
        int dimension = uploads[0].Vectors[0].Length;
        var global = Enumerable.Range(0, length).Select(position => Enumerable.Range(0, dimension)
            .Select(d => (float)chosen.Average(i => (double)uploads[i].Vectors[position][d])).ToArray()).ToArray();
        return new GlobalSoftPrompt(global, AggregationNotes.NoClustering);
    }

    static double SquaredDistance(float[] a, float[] b)
    {
        double sum = 0;
        for (var k = 0; k < a.Length; k++) sum += ((double)a[k] - b[k]) * ((double)a[k] - b[k]);
        return sum;
    }
}
