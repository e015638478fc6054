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
    [InlineData("sst2", "{text} It was", "positive", " great")]
    [InlineData("trec", "{text} Answer type:", "location", " place")]
    [InlineData("spam", "{text} This message is", "spam", " advertising")]
    [InlineData("SYNTHETIC-sentiment", "{text} It was", "negative", " terrible")]
    public void Known_tasks_have_presets(string task, string pattern, string label, string word)
    {
        var preset = TaskPreset.Get(task);
        Assert.Equal(pattern, preset.Template.Pattern);
        Assert.Equal([word], preset.Verbalizer.WordsFor(label));
    }

    [Fact]
    public void Unknown_task_preset_lists_the_known_ones()
    {
        Assert.Null(TaskPreset.Find("imdb"));
        var error = Assert.Throws<ArgumentException>(() => TaskPreset.Get("imdb"));
        Assert.Contains("'imdb' (known: sst2, trec, spam, synthetic-sentiment)", error.Message);
    }
}
