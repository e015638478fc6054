using FederatedPrompts.Core.Synthetic;

namespace FederatedPrompts.Core.Tests.Synthetic;

public sealed class SyntheticDataTests
{
    static int WordCount(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;

    [Fact]
    public void Corpus_is_deterministic_per_seed_and_differs_across_seeds()
    {
        Assert.Equal(SyntheticCorpus.Generate(7, 300), SyntheticCorpus.Generate(7, 300));
        Assert.NotEqual(SyntheticCorpus.Generate(7, 300), SyntheticCorpus.Generate(8, 300));
        // A longer run extends a shorter one with the same seed.
        Assert.Equal(SyntheticCorpus.Generate(7, 100), SyntheticCorpus.Generate(7, 300).Take(100));
    }

    [Fact]
    public void Corpus_is_short_varied_text_with_a_few_hundred_word_vocabulary()
    {
        var corpus = SyntheticCorpus.Generate(1, 3000);
        Assert.Equal(3000, corpus.Count);
        Assert.All(corpus, text => Assert.InRange(WordCount(text), 3, 40));
        var vocabulary = corpus.SelectMany(text => text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(word => word.Trim('.', ',', '?').ToLowerInvariant()).ToHashSet();
        Assert.InRange(vocabulary.Count, 200, 600);
        Assert.Contains(corpus, text => text.EndsWith('?') || text.Contains("? "));
        Assert.True(corpus.Distinct().Count() > 2700);
    }

    [Fact]
    public void Corpus_reviews_close_with_the_sentiment_words_in_both_directions()
    {
        var corpus = SyntheticCorpus.Generate(3, 3000);
        var great = corpus.Count(text => text.EndsWith(" It was great."));
        var terrible = corpus.Count(text => text.EndsWith(" It was terrible."));
        Assert.InRange(great, 450, 750);
        Assert.InRange(terrible, 450, 750);
        // The closing word follows the cue: an unnegated "wonderful" clause with no "but" means a positive review.
        Assert.All(corpus.Where(text => text.Contains("was wonderful") && !text.Contains(" but ") && text.Contains("It was")),
            text => Assert.EndsWith(" It was great.", text));
    }

    [Fact]
    public void Task_is_balanced_deterministic_and_seed_dependent()
    {
        var task = SyntheticSentimentTask.Generate(5, 400);
        Assert.Equal(["negative", "positive"], task.Labels);
        Assert.Equal(200, task.LabelCounts["positive"]);
        Assert.Equal(200, task.LabelCounts["negative"]);
        Assert.Equal(task.Examples, SyntheticSentimentTask.Generate(5, 400).Examples);
        Assert.NotEqual(task.Examples, SyntheticSentimentTask.Generate(6, 400).Examples);
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticSentimentTask.Generate(5, 3));
    }

    [Fact]
    public void Task_texts_are_short_reviews_with_negation_and_mixed_cues_but_no_answer_words()
    {
        var texts = SyntheticSentimentTask.Generate(2, 1000).Examples.Select(example => example.Text).ToArray();
        Assert.All(texts, text => Assert.InRange(WordCount(text), 3, 40));
        Assert.All(texts, text => Assert.DoesNotContain("It was", text));
        Assert.All(texts, text => Assert.DoesNotContain("great", text));
        Assert.All(texts, text => Assert.DoesNotContain("terrible", text));
        Assert.InRange(texts.Count(text => text.Contains(" not ")), 200, 800);
        Assert.InRange(texts.Count(text => text.Contains(", but ")), 150, 350);
    }

    [Fact]
    public void Task_and_corpus_of_the_same_seed_are_different_samples()
    {
        var corpusReviews = SyntheticCorpus.Generate(4, 2000)
            .Select(text => text.Replace(" It was great.", "").Replace(" It was terrible.", "")).ToHashSet();
        var task = SyntheticSentimentTask.Generate(4, 200).Examples;
        Assert.True(task.Count(example => corpusReviews.Contains(example.Text)) < 20);
    }

    [Fact]
    public void Task_uses_the_sentiment_preset()
    {
        var preset = SyntheticSentimentTask.Preset;
        Assert.Equal("{text} It was", preset.Template.Pattern);
        Assert.Equal([" great"], preset.Verbalizer.WordsFor(SyntheticSentimentTask.Positive));
        Assert.Equal([" terrible"], preset.Verbalizer.WordsFor(SyntheticSentimentTask.Negative));
        preset.Verbalizer.RequireCovers(SyntheticSentimentTask.Generate(1, 10).Labels);
    }
}
