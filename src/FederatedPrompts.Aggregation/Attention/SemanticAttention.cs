using FederatedPrompts.Aggregation.Geometry;
using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Attention;

/// <summary>
/// FedDTPT's semantic-similarity attention. For vector n of client k, the score w(k,n) is how well the OTHER clients
/// agree with it: for every other client j, the cosine similarity of e(k,n) to j's closest vector, averaged over the
/// other clients. A token every other client also chose (or chose something close to) scores 1. Attention
/// α(k,·) = softmax of w(k,·) within client k's prompt, so each client's attention sums to 1. With a single client
/// there is nothing to compare against: every w is 0 and the attention is uniform.
/// <para>The paper sums cosine similarity over every token of every other client. That sum grows with the number of
/// clients, so the softmax sharpened as clients were added (measured with <c>fedprompt aggregate</c> on one kind of
/// data: the mean largest α of a prompt was 0.21 with 2 clients, 0.76 with 10, 0.93 with 100) and α underflowed to 0
/// with hundreds. A plain mean over the other clients' tokens fixes the scale but depends on prompt lengths: a token of
/// a client with a long prompt is compared with fewer tokens, so with two clients sharing " good" and a third uploading
/// " great" among four tokens of its own, " great" outscored " good". The mean of per-client best matches lies in
/// [−1, 1] whatever the number of clients and the lengths of their prompts, and counts a client once however many
/// tokens it uploads; so α's spread depends on the data only, and w itself compares between clients (α does not: it is
/// normalised per prompt, so a client whose other tokens are poor gives a middling token a high α).</para>
/// </summary>
public static class SemanticAttention
{
    /// <summary>Scores w, one per pooled vector: the mean over the other clients of the cosine similarity to that client's closest vector, in [−1, 1].</summary>
    public static double[] Scores(PooledVectors pooled) =>
        MeanOverOtherClients(pooled, PairwisePass.Run(pooled.Vectors, pooled.Client, pooled.ClientCount, metric: null).Closest!);

    /// <summary>
    /// <see cref="Scores"/> and the pooled vectors' distances under <paramref name="metric"/> from one pass over the pairs:
    /// FedDTPT's clustering reads both, and the pairs (32 M with 1,000 clients of 8 vectors) are the whole cost.
    /// </summary>
    public static (double[] Scores, DistanceMatrix Distances) ScoresAndDistances(PooledVectors pooled, DistanceMetric metric)
    {
        var (closest, upper) = PairwisePass.Run(pooled.Vectors, pooled.Client, pooled.ClientCount, metric);
        return (MeanOverOtherClients(pooled, closest!), new DistanceMatrix(pooled.Count, upper!));
    }

    /// <summary>w(i) from closest[i · clients + j], the similarity of vector i to client j's closest vector: the mean over j ≠ i's client, in client order.</summary>
    static double[] MeanOverOtherClients(PooledVectors pooled, double[] closest)
    {
        var clients = pooled.ClientCount;
        var scores = new double[pooled.Count];
        if (clients == 1) return scores;
        for (var i = 0; i < scores.Length; i++)
        {
            var (own, sum) = (pooled.Client[i], 0.0);
            for (var j = 0; j < clients; j++)
                if (j != own) sum += closest[i * clients + j];
            scores[i] = sum / (clients - 1);
        }
        return scores;
    }

    /// <summary>Attention α, one per pooled vector: the softmax of <see cref="Scores"/> within each client's prompt.</summary>
    public static double[] Weights(PooledVectors pooled) => LogWeights(pooled, Scores(pooled)).Select(Math.Exp).ToArray();

    /// <summary>log α, one per pooled vector, from the scores: w − log Σ exp(w) over the client's prompt.</summary>
    public static double[] LogWeights(PooledVectors pooled, IReadOnlyList<double> scores)
    {
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
