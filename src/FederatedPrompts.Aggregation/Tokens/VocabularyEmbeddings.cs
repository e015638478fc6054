using FederatedPrompts.Aggregation.Geometry;

namespace FederatedPrompts.Aggregation.Tokens;

/// <summary>A model's input-embedding matrix, row-major (row = token id), for mapping vectors back to tokens.</summary>
public sealed class VocabularyEmbeddings
{
    readonly float[] _values;

    public VocabularyEmbeddings(ReadOnlySpan<float> values, int vocabularySize, int dimension)
    {
        if (vocabularySize <= 0 || dimension <= 0)
            throw new ArgumentException($"vocabulary embeddings are empty: {vocabularySize} tokens × {dimension} dimensions");
        if (values.Length != (long)vocabularySize * dimension)
            throw new ArgumentException($"vocabulary embeddings have {values.Length} values, expected {vocabularySize} × {dimension}");
        for (var i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                throw new ArgumentException($"vocabulary embedding of token {i / dimension}, dimension {i % dimension} is not finite");
        _values = values.ToArray();
        VocabularySize = vocabularySize;
        Dimension = dimension;
    }

    public int VocabularySize { get; }
    public int Dimension { get; }

    public ReadOnlySpan<float> Row(int tokenId) => _values.AsSpan(tokenId * Dimension, Dimension);

    /// <summary>The token whose embedding is nearest to <paramref name="vector"/> under <paramref name="metric"/>; ties go to the lower id.</summary>
    public int Nearest(float[] vector, DistanceMetric metric)
    {
        if (vector.Length != Dimension)
            throw new ArgumentException($"vector has {vector.Length} dimensions, the vocabulary embeddings {Dimension}");
        var best = 0;
        var bestDistance = double.PositiveInfinity;
        for (var id = 0; id < VocabularySize; id++)
        {
            var distance = VectorMath.Distance(vector, Row(id), metric);
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = id;
            }
        }
        return best;
    }
}
