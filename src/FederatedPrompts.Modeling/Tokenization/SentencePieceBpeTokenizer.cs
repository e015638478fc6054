using Microsoft.ML.Tokenizers;

namespace FederatedPrompts.Modeling.Tokenization;

/// <summary>
/// Llama's SentencePiece BPE from <c>tokenizer.model</c> (Microsoft.ML.Tokenizers' <see cref="LlamaTokenizer"/>):
/// ids as Hugging Face's LlamaTokenizer with <c>add_special_tokens=False</c> (dummy-prefix '▁', byte fallback).
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
            return new SentencePieceBpeTokenizer(LlamaTokenizer.Create(new MemoryStream(bytes), addBeginOfSentence: false, addEndOfSentence: false), bytes);
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
