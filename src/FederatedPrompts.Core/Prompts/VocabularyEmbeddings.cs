namespace FederatedPrompts.Core.Prompts;

/// <summary>A model's input-embedding matrix, row-major (row = token id): the "lm" token embeddings.</summary>
public sealed class VocabularyEmbeddings : ITokenEmbeddings
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

    public string Name => "lm";
    public int VocabularySize { get; }
    public int Dimension { get; }

    public ReadOnlySpan<float> Row(int tokenId) => _values.AsSpan(tokenId * Dimension, Dimension);

    public IReadOnlyList<float[]> Embed(IReadOnlyList<int> tokenIds) => tokenIds.Select(id =>
        id >= 0 && id < VocabularySize ? Row(id).ToArray() : throw new ArgumentOutOfRangeException(nameof(tokenIds), id, $"token id outside the vocabulary of {VocabularySize}")).ToArray();
}
