using FederatedPrompts.Aggregation.Geometry;
using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Attention;

/// <summary>
/// FedDTPT's semantic-similarity attention. For vector n of client k, w(k,n) = Σ cos(e(k,n), e(j,m)) over every
/// vector m of every OTHER client j ≠ k: a token many other clients also chose (or chose something close to) scores
/// high. Attention α(k,·) = softmax of w(k,·) within client k's prompt, so each client's attention sums to 1.
/// With a single client there is nothing to compare against: every w is 0 and the attention is uniform.
/// </summary>
public static class SemanticAttention
{
    /// <summary>Raw scores w, one per pooled vector.</summary>
    public static double[] Scores(PooledVectors pooled)
    {
        var scores = new double[pooled.Count];
        var norms = pooled.Vectors.Select(vector => VectorMath.Norm(vector)).ToArray();
        for (var i = 0; i < pooled.Count; i++)
            for (var j = i + 1; j < pooled.Count; j++)
            {
                if (pooled.Client[i] == pooled.Client[j]) continue;
                var similarity = VectorMath.CosineSimilarity(pooled.Vectors[i], pooled.Vectors[j], norms[i], norms[j]);
                scores[i] += similarity;
                scores[j] += similarity;
            }
        return scores;
    }

    /// <summary>Attention α, one per pooled vector: the softmax of <see cref="Scores"/> within each client's prompt.</summary>
    public static double[] Weights(PooledVectors pooled)
    {
        var scores = Scores(pooled);
        var weights = new double[pooled.Count];
        for (var k = 0; k < pooled.ClientCount; k++)
        {
            var members = Enumerable.Range(0, pooled.Count).Where(i => pooled.Client[i] == k).ToArray();
            var max = members.Max(i => scores[i]); // subtracted for numerical stability; softmax is unchanged
            var total = members.Sum(i => Math.Exp(scores[i] - max));
            foreach (var i in members) weights[i] = Math.Exp(scores[i] - max) / total;
        }
        return weights;
    }
}
