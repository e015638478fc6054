using FederatedPrompts.Aggregation.Geometry;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Aggregation.Tokens;

/// <summary>Maps vectors back to tokens: the nearest row of a token-embedding table.</summary>
public static class NearestTokens
{
    /// <summary>For each vector, the token whose embedding is nearest under <paramref name="metric"/>; ties go to the lower id.</summary>
    public static int[] Find(ITokenEmbeddings vocabulary, IReadOnlyList<float[]> vectors, DistanceMetric metric)
    {
        foreach (var vector in vectors)
            if (vector.Length != vocabulary.Dimension)
                throw new ArgumentException($"vector has {vector.Length} dimensions, the {vocabulary.Name} token embeddings {vocabulary.Dimension}");
        var rows = vocabulary.Embed(Enumerable.Range(0, vocabulary.VocabularySize).ToArray());
        return vectors.Select(vector =>
        {
            var best = 0;
            var bestDistance = double.PositiveInfinity;
            for (var id = 0; id < rows.Count; id++)
            {
                var distance = VectorMath.Distance(vector, rows[id], metric);
                if (distance < bestDistance)
                {
                    bestDistance = distance;
                    best = id;
                }
            }
            return best;
        }).ToArray();
    }
}
