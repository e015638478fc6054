using FederatedPrompts.Core.Tasks;

namespace FederatedPrompts.Core.Tests.Tasks;

/// <summary>What the sentence-encoder black box compares inputs with, per label.</summary>
public sealed class LabelDescriptionsTests
{
    [Fact]
    public void Every_preset_describes_each_of_its_labels()
    {
        foreach (var preset in TaskPreset.All)
            Assert.All(preset.Descriptions.For(preset.Verbalizer.Labels), d => Assert.False(string.IsNullOrWhiteSpace(d), preset.Name));
        Assert.Equal(["It was great.", "It was terrible."], TaskPreset.Sst2.Descriptions.For(["positive", "negative"]));
        Assert.Equal(TaskPreset.Sst2.Descriptions.ByLabel, TaskPreset.Imdb.Descriptions.ByLabel);
    }

    [Theory]
    [InlineData("{text} It was", "It was great.", "It was terrible.")]
    [InlineData("Review: {text}", "great", "terrible")]
    [InlineData("{text}  Overall:  ", "Overall: great.", "Overall: terrible.")]
    public void Derived_descriptions_are_the_templates_closing_and_each_labels_first_word(string template, string positive, string negative)
    {
        var words = Verbalizer.Parse("positive=great,good;negative=terrible,bad");
        Assert.Equal([positive, negative], LabelDescriptions.Derived(new PromptTemplate(template), words).For(["positive", "negative"]));
    }

    [Fact]
    public void Missing_labels_and_blank_descriptions_are_named()
    {
        var missing = Assert.Throws<InvalidDataException>(() => TaskPreset.Spam.Descriptions.For(["spam", "ham", "phishing", "promo"]));
        Assert.Contains("label descriptions have none for label(s) 'phishing', 'promo' (they describe 'spam', 'ham')", missing.Message);
        var blank = Assert.Throws<ArgumentException>(() => new LabelDescriptions([KeyValuePair.Create("spam", " ")]));
        Assert.Contains("label 'spam' has an empty description", blank.Message);
    }
}
