using FederatedPrompts.Core.Tasks;

namespace FederatedPrompts.Core.Tests.Tasks;

public sealed class PromptTemplateTests
{
    [Fact]
    public void Render_puts_the_text_in_place()
    {
        Assert.Equal("A fine film. It was", new PromptTemplate("{text} It was").Render("A fine film."));
        Assert.Equal("Q: why? A:", new PromptTemplate("Q: {text} A:").Render("why?"));
    }

    [Theory]
    [InlineData("It was", 0)]
    [InlineData("{Text} It was", 0)]
    [InlineData("{text} and {text}", 2)]
    public void Placeholder_must_occur_exactly_once(string pattern, int found)
    {
        var error = Assert.Throws<ArgumentException>(() => new PromptTemplate(pattern));
        Assert.Contains($"'{pattern}' must contain {{text}} exactly once (found {found})", error.Message);
    }

    [Theory]
    [InlineData("sst2", "{text} It was", "positive", " great", "Predict if sentiment of this review is positive or negative")]
    [InlineData("imdb", "{text} It was", "negative", " terrible", "Predict if sentiment of this review is positive or negative")]
    [InlineData("trec", "{text} Answer type:", "location", " place", "Predict the topic of the question")]
    [InlineData("spam", "{text} This message is", "spam", " advertising", "Predict if this text message is spam or a normal personal message")]
    [InlineData("SYNTHETIC-sentiment", "{text} It was", "negative", " terrible", "Predict if sentiment of this review is great or terrible")]
    public void Known_tasks_have_presets(string task, string pattern, string label, string word, string initText)
    {
        var preset = TaskPreset.Get(task);
        Assert.Equal(pattern, preset.Template.Pattern);
        Assert.Contains(word, preset.Verbalizer.WordsFor(label));
        Assert.Equal(initText, preset.InitText);
    }

    [Fact]
    public void Sst2_has_the_official_label_words()
    {
        // sprintml/POST scripts/constants.py, TEXT_LABEL_DICT["sst2"]
        Assert.Equal([" terrible", " negative", " bad", " poor", " awful"], TaskPreset.Sst2.Verbalizer.WordsFor("negative"));
        Assert.Equal([" positive", " good", " great", " awesome", " brilliant", " amazing"], TaskPreset.Sst2.Verbalizer.WordsFor("positive"));
    }

    [Fact]
    public void The_built_in_task_keeps_its_corpus_words()
    {
        // Its generated corpus closes reviews with " It was great." / " It was terrible.": the label words must stay those two.
        Assert.Equal([" great"], TaskPreset.SyntheticSentiment.Verbalizer.WordsFor("positive"));
        Assert.Equal([" terrible"], TaskPreset.SyntheticSentiment.Verbalizer.WordsFor("negative"));
    }

    [Fact]
    public void Unknown_task_preset_lists_the_known_ones()
    {
        Assert.Null(TaskPreset.Find("agnews"));
        var error = Assert.Throws<ArgumentException>(() => TaskPreset.Get("agnews"));
        Assert.Contains("'agnews' (known: sst2, imdb, trec, spam, synthetic-sentiment)", error.Message);
    }
}
