namespace FederatedPrompts.Core.Prompts;

/// <summary>
/// A vector for every token id of one tokenizer: what "close in meaning" is measured in when FedDTPT's server compares
/// uploaded tokens and when a client looks for a token's neighbours. Either a model's input-embedding rows ("lm") or a
/// pretrained sentence encoder's embedding of each token's text ("minilm").
/// </summary>
public interface ITokenEmbeddings
{
    /// <summary>What the vectors are, for reports and options: "lm" or "minilm".</summary>
    string Name { get; }
    /// <summary>Token ids run from 0 to VocabularySize − 1.</summary>
    int VocabularySize { get; }
    int Dimension { get; }
    /// <summary>The vectors of <paramref name="tokenIds"/>, in order; ArgumentOutOfRangeException for an id outside the vocabulary.</summary>
    IReadOnlyList<float[]> Embed(IReadOnlyList<int> tokenIds);
}
