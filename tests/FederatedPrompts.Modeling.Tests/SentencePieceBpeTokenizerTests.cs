using FederatedPrompts.Modeling.Tokenization;
using static FederatedPrompts.Modeling.Tests.SentencePieceModelWriter;

namespace FederatedPrompts.Modeling.Tests;

/// <summary>
/// No real tokenizer.model is available here, so a small Llama-like model is written by hand and its encodings
/// worked out by hand with SentencePiece's BPE rule: start from characters (unknown ones become &lt;0xNN&gt; byte
/// pieces), repeatedly merge the adjacent pair whose joined piece is in the vocabulary with the highest score.
/// </summary>
public class SentencePieceBpeTokenizerTests : IDisposable
{
    // Normal pieces from id 259. Scores set the merge order: ll, he, hell, ▁hell, ▁hello, ▁w, or, ▁wor, ld, ▁world.
    static readonly string[] Normal = ["▁", "h", "e", "l", "o", "w", "r", "d", "ll", "he", "hell", "▁hell", "▁hello", "▁w", "or", "▁wor", "ld", "▁world"];
    static readonly float[] Scores = [-100, -100, -100, -100, -100, -100, -100, -100, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10];

    static int Id(string piece) => 259 + Array.IndexOf(Normal, piece);

    readonly TempFolder _folder = new();
    readonly SentencePieceBpeTokenizer _tokenizer;

    public SentencePieceBpeTokenizerTests() => _tokenizer = HandMade(_folder.Path);

    /// <summary>The hand-made Llama-like tokenizer, written into <paramref name="folder"/> and loaded from there.</summary>
    internal static SentencePieceBpeTokenizer HandMade(string folder)
    {
        var path = Path.Combine(folder, SentencePieceBpeTokenizer.FileName);
        File.WriteAllBytes(path, BpeModel(LlamaPrefixPieces().Concat(Normal.Zip(Scores, (p, s) => (p, s, PieceType.Normal)))));
        return SentencePieceBpeTokenizer.Load(path);
    }

    public void Dispose() => _folder.Dispose();

    public static TheoryData<string, string[]> HandWorked => new()
    {
        // ▁hello▁world: ll → he → hell → ▁hell → ▁hello, then ▁w → or → ▁wor → ld → ▁world
        { "hello world", ["▁hello", "▁world"] },
        // ▁held: he, then ld; neither ▁he nor held is a piece
        { "held", ["▁", "he", "ld"] },
        // a leading space gives two '▁': the dummy prefix and the escaped space
        { " hello", ["▁", "▁hello"] },
        { "world hello", ["▁world", "▁hello"] },
        { "", [] },
    };

    [Theory]
    [MemberData(nameof(HandWorked))]
    public void Encode_GivesHandWorkedPieces_WithoutBosOrEos(string text, string[] pieces)
    {
        var ids = _tokenizer.Encode(text);
        Assert.Equal(pieces.Select(Id), ids);
        Assert.Equal(text, _tokenizer.Decode(ids));
    }

    [Fact]
    public void CharactersOutsideTheVocabulary_FallBackToBytePieces()
    {
        // é is C3 A9 in UTF-8; byte piece <0xNN> has id 3 + NN.
        var ids = _tokenizer.Encode("hé");
        Assert.Equal([Id("▁"), Id("h"), 3 + 0xC3, 3 + 0xA9], ids);
        Assert.Equal("hé", _tokenizer.Decode(ids));
    }

    [Fact]
    public void WithoutDummyPrefix_TheFirstWordHasNoMarker()
    {
        var path = Path.Combine(_folder.Path, "no-prefix.model");
        File.WriteAllBytes(path, BpeModel(LlamaPrefixPieces().Concat(Normal.Zip(Scores, (p, s) => (p, s, PieceType.Normal))), addDummyPrefix: false));
        // hello▁world: ll → he → hell; "hello" is no piece, so o stays alone
        Assert.Equal(["hell", "o", "▁world"], SentencePieceBpeTokenizer.Load(path).Encode("hello world").Select(id => Normal[id - 259]));
    }

    [Fact]
    public void ControlTokensWrittenInTheText_BecomeTheirIds()
    {
        var ids = _tokenizer.Encode("<s>hello</s>");
        Assert.Equal(1, ids[0]);
        Assert.Equal(2, ids[^1]);
        Assert.DoesNotContain(3 + '<', ids);
    }

    [Fact]
    public void Properties_ComeFromTheModel()
    {
        Assert.Equal(259 + Normal.Length, _tokenizer.VocabSize);
        Assert.Equal(1, _tokenizer.BosId);
        Assert.Equal(2, _tokenizer.EosId);
        Assert.StartsWith("sentencepiece:", _tokenizer.Identity);
    }

    [Fact]
    public void GarbageFile_IsReportedWithItsPath()
    {
        var path = _folder.Write("broken.model", "this is not a protobuf");
        var error = Assert.Throws<InvalidDataException>(() => SentencePieceBpeTokenizer.Load(path));
        Assert.Contains(path, error.Message);
    }
}
