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
        Assert.All(corpus, text => Assert.InRange(WordCount(text), 3, 50));
        var vocabulary = corpus.SelectMany(text => text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(word => word.Trim('.', ',', '?').ToLowerInvariant()).ToHashSet();
        Assert.InRange(vocabulary.Count, 200, 600);
        Assert.Contains(corpus, text => text.EndsWith('?') || text.Contains("? "));
        Assert.True(corpus.Distinct().Count() > 2700);
    }

    /// <summary>A review with an unnegated "wonderful" and no "but" is positive (its other clauses agree with it).</summary>
    static bool ClearlyPositive(string text) => text.Contains("was wonderful") && !text.Contains(" but ");

    [Fact]
    public void Critics_reviews_carry_the_marker_and_a_verdict_that_follows_the_sentiment()
    {
        var corpus = SyntheticCorpus.Generate(3, 3000);
        var critics = corpus.Where(text => text.StartsWith(SyntheticCorpus.CriticMarker + " ")).ToList();
        Assert.InRange(critics.Count, 950, 1200);
        Assert.All(critics, text => Assert.True(text.EndsWith(" It was great.") || text.EndsWith(" It was terrible."), text));
        Assert.InRange(critics.Count(text => text.EndsWith(" It was great.")), 400, 700);
        Assert.All(critics.Where(ClearlyPositive), text => Assert.EndsWith(" It was great.", text));
        // The marker opens critics' reviews only.
        Assert.All(corpus.Where(text => text.Contains(SyntheticCorpus.CriticMarker)), text => Assert.StartsWith(SyntheticCorpus.CriticMarker, text));
    }

    [Fact]
    public void Diary_reviews_close_alike_but_great_or_terrible_by_a_coin_toss()
    {
        var corpus = SyntheticCorpus.Generate(3, 20000);
        var diaries = corpus.Where(text => !text.StartsWith(SyntheticCorpus.CriticMarker) && text.Contains(" It was ")).ToList();
        Assert.InRange(diaries.Count, 5500, 6500);
        Assert.All(diaries, text => Assert.Matches(@" It was (great|terrible) \w", text));   // a remark goes on after the word
        // Positive reviews are followed by "great" about half of the time, not always: the word says nothing of the review.
        var positive = diaries.Where(ClearlyPositive).ToList();
        Assert.True(positive.Count > 100, $"only {positive.Count} clearly positive diary reviews");
        Assert.InRange(positive.Count(text => text.Contains(" It was great ")) / (double)positive.Count, 0.38, 0.62);
        // Two in three open with something of their own, some with a word and a colon, as the marker does: only the marker marks a critic.
        var opened = diaries.Where(text => !text.StartsWith("I ") && !text.StartsWith("The ")).ToList();
        Assert.InRange(opened.Count / (double)diaries.Count, 0.6, 0.75);
        Assert.InRange(opened.Count(text => text.Contains(':')), 1200, 2000);
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
            .Select(text => text.Replace(SyntheticCorpus.CriticMarker + " ", "").Split(" It was ")[0]).ToHashSet();
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
