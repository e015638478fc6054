namespace FederatedPrompts.Modeling.Tokenization;

/// <summary>Finds and loads the tokenizer of a model folder.</summary>
public static class TokenizerLoader
{
    /// <summary>
    /// First match wins: <c>fedprompt-tokenizer.json</c> (this project's own models), <c>tokenizer.model</c>
    /// (SentencePiece, preferred over the Hugging Face files that often sit beside it), <c>vocab.json</c> +
    /// <c>merges.txt</c>, <c>tokenizer.json</c> (byte-level BPE), <c>pieces.json</c> (decode only).
    /// Malformed files throw <see cref="InvalidDataException"/> naming the file.
    /// </summary>
    public static ITextTokenizer FromFolder(string dir)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Model folder {dir} does not exist");
        return TryFromFolder(dir) ?? throw new FileNotFoundException(
            $"Model folder {dir} has no tokenizer: expected {Cl100kSubsetTokenizer.FileName}, {SentencePieceBpeTokenizer.FileName}, " +
            $"vocab.json + merges.txt, tokenizer.json or {PieceTableTokenizer.FileName}");
    }

    /// <summary>As <see cref="FromFolder"/>, but null when the folder holds no tokenizer file at all.</summary>
    public static ITextTokenizer? TryFromFolder(string dir)
    {
        string At(string name) => Path.Combine(dir, name);
        if (File.Exists(At(Cl100kSubsetTokenizer.FileName))) return Cl100kSubsetTokenizer.Load(At(Cl100kSubsetTokenizer.FileName));
        if (File.Exists(At(SentencePieceBpeTokenizer.FileName))) return SentencePieceBpeTokenizer.Load(At(SentencePieceBpeTokenizer.FileName));
        if (File.Exists(At("vocab.json")) && File.Exists(At("merges.txt"))) return ByteLevelBpeTokenizer.FromVocabAndMerges(At("vocab.json"), At("merges.txt"));
        if (File.Exists(At("tokenizer.json"))) return ByteLevelBpeTokenizer.FromTokenizerJson(At("tokenizer.json"));
        if (File.Exists(At(PieceTableTokenizer.FileName))) return PieceTableTokenizer.Load(At(PieceTableTokenizer.FileName));
        return null;
    }
}
