using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Semantics;

namespace FederatedPrompts.Discrete.Proposal;

/// <summary>
/// The token-embedding spaces by name, for a model and its tokenizer: what FedDTPT's server compares uploaded tokens
/// in, and where a client looks for a token's neighbours.
/// <list type="bullet">
/// <item>"minilm" (default): each token's text embedded by the pretrained sentence encoder
/// (<see cref="EncodedTokenEmbeddings"/>), so near-synonyms are near each other. Ids run up to the tokenizer's
/// vocabulary (a model's padding rows have no text).</item>
/// <item>"lm": the model's input-embedding rows, what a small model learned about its tokens.</item>
/// </list>
/// </summary>
public static class TokenSpaces
{
    public const string MiniLm = "minilm", Lm = "lm";

    public static IReadOnlyList<string> Names { get; } = [MiniLm, Lm];

    /// <summary>The space called <paramref name="name"/> (case-insensitive); ArgumentException listing the known names otherwise.</summary>
    public static ITokenEmbeddings Create(string name, CausalLM model, ITextTokenizer tokenizer) => name.ToLowerInvariant() switch
    {
        MiniLm => new EncodedTokenEmbeddings(tokenizer.Identity, Math.Min(model.VocabSize, tokenizer.VocabSize), id => tokenizer.Decode([id])),
        Lm => new VocabularyEmbeddings(InputEmbeddings.Matrix(model), model.VocabSize, model.HiddenSize),
        _ => throw new ArgumentException($"unknown token embeddings '{name}' (known: {string.Join(", ", Names)})"),
    };
}
