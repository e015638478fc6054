namespace FederatedPrompts.Modeling.Tokenization;

/// <summary>
/// Text ↔ token ids exactly as the model's Hugging Face tokenizer would produce them, without adding
/// special tokens (callers add BOS/EOS explicitly where a model needs them).
/// </summary>
public interface ITextTokenizer
{
    /// <summary>Stable identity of the vocabulary (kind + content hash): discrete prompts record it so a prompt is never applied to another vocabulary.</summary>
    string Identity { get; }
    int VocabSize { get; }
    int? BosId { get; }
    int? EosId { get; }
    IReadOnlyList<int> Encode(string text);
    string Decode(IEnumerable<int> ids);
}
