using FederatedPrompts.Core.Tasks;

namespace FederatedPrompts.Core.Tests.Tasks;

public sealed class VerbalizerTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Json_keeps_words_verbatim_and_accepts_a_single_string()
    {
        var verbalizer = Verbalizer.Parse("{\"positive\": [\" great\", \" good\"], \"negative\": \" terrible\"}");
        Assert.Equal(["positive", "negative"], verbalizer.Labels);
        Assert.Equal([" great", " good"], verbalizer.WordsFor("positive"));
        Assert.Equal([" terrible"], verbalizer.WordsFor("negative"));
    }

    [Fact]
    public void Inline_form_trims_words_and_gives_each_one_leading_space()
    {
        var verbalizer = Verbalizer.Parse(" positive = great, good ; negative=terrible;");
        Assert.Equal([" great", " good"], verbalizer.WordsFor("positive"));
        Assert.Equal([" terrible"], verbalizer.WordsFor("negative"));
    }

    [Theory]
    [InlineData("positive=great;negative", "'negative' is not label=word")]
    [InlineData("positive=great,;negative=bad", "label 'positive' has an empty word")]
    [InlineData("positive=good;negative=good", "word ' good' belongs to both 'positive' and 'negative'")]
    [InlineData("a=x;a=y", "lists label 'a' twice")]
    [InlineData("", "no labels")]
    [InlineData("{\"a\": []}", "label 'a' has no words")]
    [InlineData("{\"a\": [1]}", "non-string word 1")]
    [InlineData("{\"a\": 3}", "must map to a word or an array of words")]
    [InlineData("[\" a\"]", "not label=word")]
    [InlineData("{\"a\": ", "invalid verbalizer")]
    public void Bad_specs_are_rejected_with_the_reason(string spec, string reason)
    {
        var error = Assert.Throws<FormatException>(() => Verbalizer.Parse(spec));
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Load_reads_json_and_names_the_file_on_errors()
    {
        var good = _dir.Write("v.json", "{\n  \"spam\": [\" spam\"],\n  \"ham\": [\" fine\"]\n}");
        Assert.Equal([" fine"], Verbalizer.Load(good).WordsFor("ham"));

        var malformed = _dir.Write("bad.json", "{\n  \"spam\": [\" spam\"\n  \"ham\": []\n}");
        var error = Assert.Throws<DataFileException>(() => Verbalizer.Load(malformed));
        Assert.StartsWith($"{malformed}:3: malformed verbalizer JSON", error.Message);

        var invalid = _dir.Write("empty-words.json", "{\"spam\": []}");
        Assert.Equal($"{invalid}: verbalizer label 'spam' has no words",
            Assert.Throws<DataFileException>(() => Verbalizer.Load(invalid)).Message);
    }

    [Fact]
    public void RequireCovers_lists_every_missing_label()
    {
        var verbalizer = Verbalizer.Parse("positive=great");
        verbalizer.RequireCovers(["positive", "positive"]);
        var error = Assert.Throws<InvalidDataException>(() => verbalizer.RequireCovers(["negative", "positive", "neutral"]));
        Assert.Contains("'negative', 'neutral'", error.Message);
    }

    [Fact]
    public void Default_prefixes_each_label_with_a_space()
    {
        var verbalizer = Verbalizer.Default(["yes", "no"]);
        Assert.Equal([" yes"], verbalizer.WordsFor("yes"));
        Assert.Equal([" no"], verbalizer.WordsFor("no"));
        Assert.Throws<KeyNotFoundException>(() => verbalizer.WordsFor("maybe"));
    }
}
