using FederatedPrompts.Aggregation.Geometry;
using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Attention;

/// <summary>
/// FedDTPT's semantic-similarity attention. For vector n of client k, w(k,n) = Σ cos(e(k,n), e(j,m)) over every
/// vector m of every OTHER client j ≠ k: a token many other clients also chose (or chose something close to) scores
/// high. Attention α(k,·) = softmax of w(k,·) within client k's prompt, so each client's attention sums to 1.
/// With a single client there is nothing to compare against: every w is 0 and the attention is uniform.
/// w grows with the number of clients (it sums over all of them), so within one prompt two scores can differ by
/// hundreds and exp underflows: α of a token far below its prompt's best is exactly 0 in doubles. Aggregation
/// therefore compares and weights by log α (<see cref="LogWeights"/>), which stays finite and exact.
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
    public static double[] Weights(PooledVectors pooled) => LogWeights(pooled).Select(Math.Exp).ToArray();

    /// <summary>log α, one per pooled vector: w − log Σ exp(w) over the client's prompt (log-sum-exp with the maximum taken out).</summary>
    public static double[] LogWeights(PooledVectors pooled)
    {
        var scores = Scores(pooled);
        var logWeights = new double[pooled.Count];
        foreach (var members in Enumerable.Range(0, pooled.Count).GroupBy(i => pooled.Client[i]))
            foreach (var (i, logWeight) in members.Zip(LogSoftmax(members.Select(i => scores[i]).ToArray())))
                logWeights[i] = logWeight;
        return logWeights;
    }

    /// <summary>log of the softmax of <paramref name="values"/>, finite for any finite input.</summary>
    public static double[] LogSoftmax(IReadOnlyList<double> values)
    {
        var normaliser = LogSumExp(values);
        return values.Select(v => v - normaliser).ToArray();
    }

    /// <summary>log Σ exp(vᵢ), computed as max + log Σ exp(vᵢ − max) so nothing overflows or underflows to nothing.</summary>
    public static double LogSumExp(IReadOnlyList<double> values)
    {
        var max = values.Max();
        return max + Math.Log(values.Sum(v => Math.Exp(v - max)));
    }
}
