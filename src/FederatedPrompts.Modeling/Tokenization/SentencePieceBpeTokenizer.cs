using Microsoft.ML.Tokenizers;

namespace FederatedPrompts.Modeling.Tokenization;

/// <summary>
/// Llama's SentencePiece BPE from <c>tokenizer.model</c> (Microsoft.ML.Tokenizers' <see cref="LlamaTokenizer"/>):
/// ids as Hugging Face's LlamaTokenizer with <c>add_special_tokens=False</c> (dummy-prefix '▁', byte fallback).
/// <c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c>, <c>&lt;unk&gt;</c> written in the text become their ids, as in Hugging Face; the
/// '▁' placed around such a literal follows Microsoft.ML.Tokenizers, which can differ from Hugging Face (whose own
/// result there depends on its <c>legacy</c> flag).
/// </summary>
public sealed class SentencePieceBpeTokenizer : ITextTokenizer
{
    public const string FileName = "tokenizer.model";

    readonly SentencePieceTokenizer _sentencePiece;

    SentencePieceBpeTokenizer(SentencePieceTokenizer sentencePiece, byte[] modelBytes)
    {
        _sentencePiece = sentencePiece;
        VocabSize = sentencePiece.Vocabulary.Values.Max() + 1;
        BosId = sentencePiece.BeginningOfSentenceId >= 0 ? sentencePiece.BeginningOfSentenceId : null;
        EosId = sentencePiece.EndOfSentenceId >= 0 ? sentencePiece.EndOfSentenceId : null;
        Identity = VocabularyIdentity.Of("sentencepiece", modelBytes);
    }

    public string Identity { get; }
    public int VocabSize { get; }
    public int? BosId { get; }
    public int? EosId { get; }

    public static SentencePieceBpeTokenizer Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        try
        {
            // Hugging Face turns <s>, </s> and <unk> written in the text into their ids; the package does so only
            // for tokens it is given, so read the model once to learn them.
            var plain = LlamaTokenizer.Create(new MemoryStream(bytes), addBeginOfSentence: false, addEndOfSentence: false);
            var control = new Dictionary<string, int>();
            foreach (var (token, id) in new[] { (plain.BeginningOfSentenceToken, plain.BeginningOfSentenceId),
                         (plain.EndOfSentenceToken, plain.EndOfSentenceId), (plain.UnknownToken, plain.UnknownId) })
                if (id >= 0 && !string.IsNullOrEmpty(token)) control[token] = id;
            var withControl = LlamaTokenizer.Create(new MemoryStream(bytes), addBeginOfSentence: false, addEndOfSentence: false, control);
            return new SentencePieceBpeTokenizer(withControl, bytes);
        }
        catch (Exception e) when (e is not OutOfMemoryException) // protobuf and model-type errors come as several exception types
        {
            throw new InvalidDataException($"{path}: not a SentencePiece BPE ModelProto ({e.Message})", e);
        }
    }

    public IReadOnlyList<int> Encode(string text) =>
        _sentencePiece.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false);

    public string Decode(IEnumerable<int> ids) => _sentencePiece.Decode(ids);
}
