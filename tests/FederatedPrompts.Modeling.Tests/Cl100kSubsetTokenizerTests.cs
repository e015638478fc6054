using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.TestSupport;
using Microsoft.ML.Tokenizers;

namespace FederatedPrompts.Modeling.Tests;

public class Cl100kSubsetTokenizerTests
{
    static IEnumerable<string> BrownDocuments(int skip, int take) => TokenizerTestTexts.BrownDocuments().Skip(skip).Take(take);

    static readonly Lazy<Cl100kSubsetTokenizer> Brown4k = new(() => Cl100kSubsetTokenizer.Train(BrownDocuments(0, 100), 4096));

    [SharedDataFact]
    public void RoundTrip_OnUnseenBrownText_IsExact_AndUsesByteFallback()
    {
        var tokenizer = Brown4k.Value;
        var usedByteFallback = false;
        foreach (var text in BrownDocuments(400, 50).Concat(TokenizerTestTexts.Adversarial).Concat(TokenizerTestTexts.RandomMixes(100)))
        {
            var ids = tokenizer.Encode(text);
            Assert.All(ids, id => Assert.InRange(id, 0, tokenizer.VocabSize - 1));
            Assert.Equal(text, tokenizer.Decode(ids));
            usedByteFallback |= ids.Any(id => id < 256 && id >= 128); // non-ASCII bytes only appear through the fallback
        }
        Assert.True(usedByteFallback);
    }

    [SharedDataFact]
    public void Training_KeepsTheRequestedNumberOfIds_MostFrequentFirst_TiesByCl100kId()
    {
        var corpus = BrownDocuments(0, 20).ToList();
        var tokenizer = Cl100kSubsetTokenizer.Train(corpus, 600);
        Assert.Equal(600, tokenizer.VocabSize);
        Assert.Equal(599, tokenizer.EndOfTextId);
        Assert.Equal(599, tokenizer.BosId);
        Assert.Equal(599, tokenizer.EosId);
        Assert.Equal(599, tokenizer.KeptBaseIds.Count);

        var cl100k = TiktokenTokenizer.CreateForEncoding("cl100k_base");
        var counts = corpus.SelectMany(d => cl100k.EncodeToIds(d)).CountBy(id => id).ToDictionary();
        var frequent = tokenizer.KeptBaseIds.Skip(256).ToList();
        for (var i = 1; i < frequent.Count; i++)
        {
            var (previous, current) = (counts[frequent[i - 1]], counts[frequent[i]]);
            Assert.True(previous > current || (previous == current && frequent[i - 1] < frequent[i]), $"order broken at {i}");
        }
        var leastKept = counts[frequent[^1]];
        var moreFrequent = counts.Where(e => e.Value > leastKept && !tokenizer.KeptBaseIds.Take(256).Contains(e.Key)).Select(e => e.Key);
        Assert.All(moreFrequent, id => Assert.Contains(id, frequent));
    }

    [SharedDataFact]
    public void Training_IsDeterministic()
    {
        var first = Cl100kSubsetTokenizer.Train(BrownDocuments(0, 30), 1000);
        var second = Cl100kSubsetTokenizer.Train(BrownDocuments(0, 30), 1000);
        Assert.Equal(first.KeptBaseIds, second.KeptBaseIds);
        Assert.Equal(first.Identity, second.Identity);
        Assert.NotEqual(first.Identity, Cl100kSubsetTokenizer.Train(BrownDocuments(30, 30), 1000).Identity);
    }

    [Fact]
    public void SmallCorpus_GivesFewerIdsThanRequested()
    {
        var tokenizer = Cl100kSubsetTokenizer.Train(["x y"], 300); // one multi-byte token: " y"
        Assert.Equal(256 + 1 + 1, tokenizer.VocabSize);
        Assert.Equal(257, tokenizer.EndOfTextId);
    }

    [Fact]
    public void TokenOutsideTheKeptSet_IsEmittedAsItsBytes()
    {
        var tokenizer = Cl100kSubsetTokenizer.Train(["hello hello hello world"], 300);
        Assert.Equal([0xC3, 0xA9], tokenizer.Encode("é"));
        Assert.Equal([(int)'q', 'u', 'a', 'n', 't', 'u', 'm'], tokenizer.Encode("quantum"));
        Assert.Equal("é quantum", tokenizer.Decode(tokenizer.Encode("é quantum")));
        Assert.True(tokenizer.Encode(" hello").Single() >= 256);
    }

    [Fact]
    public void EndOfTextLiteral_IsTheSpecialId_OtherCl100kSpecialsStayText()
    {
        var tokenizer = Cl100kSubsetTokenizer.Train(["a b c"], 300);
        var ids = tokenizer.Encode("one<|endoftext|>two");
        Assert.Equal(1, ids.Count(id => id == tokenizer.EndOfTextId));
        Assert.Equal("one<|endoftext|>two", tokenizer.Decode(ids));

        var fim = tokenizer.Encode("<|fim_prefix|>x");
        Assert.All(fim, id => Assert.True(id < 256));
        Assert.Equal("<|fim_prefix|>x", tokenizer.Decode(fim));
    }

    [SharedDataFact]
    public void SavedFile_LoadsBackIdentically()
    {
        using var folder = new TempFolder();
        var trained = Brown4k.Value;
        var path = trained.Save(folder.Path);
        Assert.Equal(Path.Combine(folder.Path, Cl100kSubsetTokenizer.FileName), path);

        var loaded = Cl100kSubsetTokenizer.Load(path);
        Assert.Equal(trained.Identity, loaded.Identity);
        Assert.Equal(trained.KeptBaseIds, loaded.KeptBaseIds);
        Assert.Equal(trained.VocabSize, loaded.VocabSize);
        var text = BrownDocuments(450, 1).Single();
        Assert.Equal(trained.Encode(text), loaded.Encode(text));
    }

    [Theory]
    [InlineData("not json", "malformed")]
    [InlineData("{\"format\":\"other\"}", "'format'")]
    [InlineData("{\"format\":\"fedprompt-tokenizer/1\",\"base_encoding\":\"o200k_base\"}", "'base_encoding'")]
    [InlineData("{\"format\":\"fedprompt-tokenizer/1\",\"base_encoding\":\"cl100k_base\",\"kept_base_ids\":[1,2,3]}", "'kept_base_ids'")]
    [InlineData("{\"format\":\"fedprompt-tokenizer/1\",\"base_encoding\":\"cl100k_base\",\"kept_base_ids\":\"x\"}", "'kept_base_ids'")]
    public void MalformedFile_IsReportedWithItsPath(string content, string complaint)
    {
        using var folder = new TempFolder();
        var path = folder.Write(Cl100kSubsetTokenizer.FileName, content);
        var error = Assert.Throws<InvalidDataException>(() => Cl100kSubsetTokenizer.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains(complaint, error.Message);
    }

    [Fact]
    public void SpecialTokensEntry_MustNameEndOfTextAfterTheKeptIds()
    {
        using var folder = new TempFolder();
        var tokenizer = Cl100kSubsetTokenizer.Train(["x"], 300);
        var path = tokenizer.Save(folder.Path);
        File.WriteAllText(path, File.ReadAllText(path).Replace($"\"<|endoftext|>\":{tokenizer.EndOfTextId}", "\"<|endoftext|>\":5"));
        Assert.Contains("'special_tokens'", Assert.Throws<InvalidDataException>(() => Cl100kSubsetTokenizer.Load(path)).Message);
    }
}
