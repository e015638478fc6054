using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.TestSupport;

namespace FederatedPrompts.Modeling.Tests;

public class TokenizerLoaderTests
{
    static string Model(string name) => SharedData.Under("models", name);

    [SharedDataFact]
    public void SharedModels_GetTheirTokenizerKind()
    {
        var gpt2 = TokenizerLoader.FromFolder(Model("gpt2-tokenizer"));
        Assert.IsType<ByteLevelBpeTokenizer>(gpt2);
        Assert.Equal([15496, 995], gpt2.Encode("Hello world"));
        Assert.IsType<ByteLevelBpeTokenizer>(TokenizerLoader.FromFolder(Model("tiny-random-gpt2")));
        Assert.IsType<PieceTableTokenizer>(TokenizerLoader.FromFolder(Model("stories260k-llama")));
    }

    [SharedDataFact]
    public void Identity_IsStableAndDiffersBetweenVocabularies()
    {
        var gpt2 = TokenizerLoader.FromFolder(Model("gpt2-tokenizer")).Identity;
        Assert.Matches("^gpt2-bpe:[0-9a-f]{16}$", gpt2);
        Assert.Equal(gpt2, TokenizerLoader.FromFolder(Model("gpt2-tokenizer")).Identity);
        Assert.NotEqual(gpt2, TokenizerLoader.FromFolder(Model("tiny-random-gpt2")).Identity);
        Assert.Matches("^pieces:[0-9a-f]{16}$", TokenizerLoader.FromFolder(Model("stories260k-llama")).Identity);
    }

    [SharedDataFact]
    public void TokenizerJsonAlone_IsUsedWhenVocabAndMergesAreAbsent()
    {
        using var folder = new TempFolder();
        File.Copy(Path.Combine(Model("tiny-random-gpt2"), "tokenizer.json"), Path.Combine(folder.Path, "tokenizer.json"));
        var fromJson = TokenizerLoader.FromFolder(folder.Path);
        Assert.Equal(TokenizerLoader.FromFolder(Model("tiny-random-gpt2")).Identity, fromJson.Identity);
    }

    [Fact]
    public void OwnTokenizerFile_ComesFirst()
    {
        using var folder = new TempFolder();
        var trained = Cl100kSubsetTokenizer.Train(["the cat sat on the mat"], 300);
        trained.Save(folder.Path);
        folder.Write(PieceTableTokenizer.FileName, "{\"pieces\": [\"a\"]}");
        var loaded = TokenizerLoader.FromFolder(folder.Path);
        Assert.IsType<Cl100kSubsetTokenizer>(loaded);
        Assert.Equal(trained.Identity, loaded.Identity);
    }

    [Fact]
    public void FolderWithoutTokenizer_IsNamedInTheError()
    {
        using var folder = new TempFolder();
        folder.Write("config.json", "{}");
        Assert.Contains(folder.Path, Assert.Throws<FileNotFoundException>(() => TokenizerLoader.FromFolder(folder.Path)).Message);
        var missing = Path.Combine(folder.Path, "nope");
        Assert.Contains(missing, Assert.Throws<DirectoryNotFoundException>(() => TokenizerLoader.FromFolder(missing)).Message);
    }

    [Theory]
    [InlineData("vocab.json", "[1, 2]", "merges.txt", "#version: 0.2\na b\n")]
    [InlineData("vocab.json", "{\"a\": 0, \"b\": 1, \"ab\": 2}", "merges.txt", "#version: 0.2\na b c\n")]
    [InlineData("vocab.json", "{\"a\": 0, \"b\": 1}", "merges.txt", "#version: 0.2\na b\n")] // "ab" is not in the vocabulary
    [InlineData("tokenizer.json", "{\"model\": {\"type\": \"WordPiece\"}}", null, null)]
    [InlineData("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, \"pre_tokenizer\": {\"type\": \"Metaspace\"}}", null, null)]
    [InlineData("tokenizer.json", "not json", null, null)]
    public void MalformedFile_IsNamedInTheError(string file, string content, string? otherFile, string? otherContent)
    {
        using var folder = new TempFolder();
        var path = folder.Write(file, content);
        if (otherFile is not null) folder.Write(otherFile, otherContent!);
        var error = Assert.Throws<InvalidDataException>(() => TokenizerLoader.FromFolder(folder.Path));
        Assert.Contains(folder.Path, error.Message);
        Assert.True(error.Message.Contains(path) || (otherFile is not null && error.Message.Contains(Path.Combine(folder.Path, otherFile))), error.Message);
    }
}
