namespace FederatedPrompts.Modeling.Tokenization;

/// <summary>Puts a model's tokenizer into a model folder, so every folder the project writes is self-contained.</summary>
public static class TokenizerFiles
{
    /// <summary>Every file name <see cref="TokenizerLoader"/> reads, plus Hugging Face's companions.</summary>
    static readonly string[] Names =
    [
        "fedprompt-tokenizer.json", "tokenizer.model", "vocab.json", "merges.txt", "tokenizer.json",
        "tokenizer_config.json", "special_tokens_map.json", "pieces.json",
    ];

    /// <summary>Writes the project's corpus tokenizer, or copies the tokenizer files of <paramref name="sourceDir"/>.</summary>
    public static void Save(ITextTokenizer tokenizer, string? sourceDir, string destinationDir)
    {
        if (tokenizer is Cl100kSubsetTokenizer own) { own.Save(destinationDir); return; }
        if (sourceDir is null) throw new ArgumentException("a tokenizer read from files needs its source folder to be copied");
        CopyAll(sourceDir, destinationDir);
    }

    public static void CopyAll(string sourceDir, string destinationDir)
    {
        if (Path.GetFullPath(sourceDir) == Path.GetFullPath(destinationDir)) return;
        foreach (var name in Names.Where(n => File.Exists(Path.Combine(sourceDir, n))))
            File.Copy(Path.Combine(sourceDir, name), Path.Combine(destinationDir, name), overwrite: true);
    }
}
