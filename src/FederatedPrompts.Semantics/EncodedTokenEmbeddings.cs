using System.Collections.Concurrent;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Semantics;

/// <summary>
/// Token embeddings by meaning: token id t of a tokenizer is embedded as the text the tokenizer decodes it to
/// (" great", "ing", "\n"), encoded by <see cref="MiniLmEncoder"/>. FedDTPT's server embeds uploaded tokens with a
/// pretrained encoder (the paper uses BERT/RoBERTa) so that near-synonyms are near each other, which a small model's
/// input embeddings, learned on a million words, do not give. Vectors are cached per (tokenizer identity, token id) for
/// the process: every instance for one tokenizer shares them, and each token's text is encoded once.
/// </summary>
public sealed class EncodedTokenEmbeddings : ITokenEmbeddings
{
    static readonly ConcurrentDictionary<string, ConcurrentDictionary<int, float[]>> CacheByTokenizer = new();

    readonly Func<int, string> _decode;
    readonly ConcurrentDictionary<int, float[]> _cache;
    readonly MiniLmEncoder _encoder;

    /// <param name="tokenizerIdentity">Names the vocabulary: ids of different tokenizers never share a cache entry.</param>
    /// <param name="vocabularySize">Ids run from 0 to this − 1.</param>
    /// <param name="decode">The tokenizer's text for one id.</param>
    public EncodedTokenEmbeddings(string tokenizerIdentity, int vocabularySize, Func<int, string> decode, MiniLmEncoder? encoder = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tokenizerIdentity);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, 1);
        VocabularySize = vocabularySize;
        _decode = decode;
        _encoder = encoder ?? MiniLmEncoder.Shared;
        _cache = CacheByTokenizer.GetOrAdd(tokenizerIdentity, _ => new ConcurrentDictionary<int, float[]>());
    }

    public string Name => MiniLmEncoder.Name;
    public int VocabularySize { get; }
    public int Dimension => MiniLmEncoder.Dimension;

    public IReadOnlyList<float[]> Embed(IReadOnlyList<int> tokenIds)
    {
        foreach (var id in tokenIds)
            if (id < 0 || id >= VocabularySize)
                throw new ArgumentOutOfRangeException(nameof(tokenIds), id, $"token id outside the vocabulary of {VocabularySize}");
        var missing = tokenIds.Where(id => !_cache.ContainsKey(id)).Distinct().ToArray();
        if (missing.Length > 0)
        {
            var vectors = _encoder.Encode(missing.Select(_decode).ToArray());
            for (var i = 0; i < missing.Length; i++) _cache.TryAdd(missing[i], vectors[i]);
        }
        return tokenIds.Select(id => _cache[id]).ToArray();
    }
}
