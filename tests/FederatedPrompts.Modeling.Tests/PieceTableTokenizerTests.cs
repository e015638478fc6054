using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.TestSupport;

namespace FederatedPrompts.Modeling.Tests;

public class PieceTableTokenizerTests
{
    static readonly Lazy<PieceTableTokenizer> Stories = new(() =>
        PieceTableTokenizer.Load(SharedData.Under("models", "stories260k-llama", PieceTableTokenizer.FileName)));

    [SharedDataFact]
    public void Stories260k_Properties()
    {
        Assert.Equal(512, Stories.Value.VocabSize);
        Assert.Equal(1, Stories.Value.BosId);
        Assert.Equal(2, Stories.Value.EosId);
        Assert.StartsWith("pieces:", Stories.Value.Identity);
    }

    [SharedDataFact]
    public void Decode_JoinsPieces_DropsBosAndTheLeadingSpace()
    {
        var tokenizer = Stories.Value;
        int[] ids = [1, .. new[] { " Once", " upon", " a", " time" }.Select(p => tokenizer.IdOfPiece(p)!.Value), 2];
        Assert.Equal("Once upon a time", tokenizer.Decode(ids));
    }

    [SharedDataFact]
    public void IdOfPiece_AcceptsSentencePieceSpaceMarker_AndReturnsNullWhenAbsent()
    {
        var tokenizer = Stories.Value;
        Assert.Equal(tokenizer.IdOfPiece(" the"), tokenizer.IdOfPiece("▁the"));
        Assert.Equal(265, tokenizer.IdOfPiece(" the"));
        Assert.Null(tokenizer.IdOfPiece("▁antidisestablishmentarianism"));
    }

    [SharedDataFact]
    public void Decode_TurnsBytePiecesIntoUtf8()
    {
        var tokenizer = Stories.Value;
        // <0xNN> is id 3 + NN; "é" is C3 A9, "😀" F0 9F 98 80
        Assert.Equal("é😀", tokenizer.Decode([3 + 0xC3, 3 + 0xA9, 3 + 0xF0, 3 + 0x9F, 3 + 0x98, 3 + 0x80]));
        Assert.Equal("a\nb", tokenizer.Decode([tokenizer.IdOfPiece("a")!.Value, 3 + 0x0A, tokenizer.IdOfPiece("b")!.Value]));
    }

    [SharedDataFact]
    public void Encode_ExplainsThatThereIsNoMergeTable()
    {
        var error = Assert.Throws<NotSupportedException>(() => Stories.Value.Encode("Once upon a time"));
        Assert.Contains("stories260k-llama", error.Message);
        Assert.Contains("no merge table", error.Message);
        Assert.Contains("token ids", error.Message);
    }

    [Theory]
    [InlineData("[\"a\", \"b\"]")]
    [InlineData("{\"pieces\": \"ab\"}")]
    [InlineData("{\"pieces\": [1, 2]}")]
    [InlineData("{")]
    public void MalformedFile_IsReportedWithItsPath(string content)
    {
        using var folder = new TempFolder();
        var path = folder.Write(PieceTableTokenizer.FileName, content);
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => PieceTableTokenizer.Load(path)).Message);
    }
}
