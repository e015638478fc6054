using FederatedPrompts.Core.Tasks;

namespace FederatedPrompts.Core.Synthetic;

/// <summary>
/// Download-free labeled reviews ("positive"/"negative") from the grammar of <see cref="SyntheticCorpus"/>, drawn
/// from a differently seeded stream and without the closing "It was ..." sentence, so the label has to be read
/// from the cues. One example in four is mixed (an opposite clause, then "but" and the deciding clauses), and
/// clauses are sometimes negated ("not good"), so the task is not trivially separable by single words.
/// </summary>
public static class SyntheticSentimentTask
{
    public const string Positive = "positive";
    public const string Negative = "negative";

    /// <summary>Keeps the task stream apart from the corpus stream of the same seed.</summary>
    const int StreamSalt = 0x5E471;

    public static TaskPreset Preset => TaskPreset.SyntheticSentiment;

    /// <summary><paramref name="count"/> examples (even), half of each label, in seeded random order.</summary>
    public static TaskDataset Generate(int seed, int count)
    {
        if (count < 0 || count % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, "must be even and non-negative so both labels get half");
        var random = new Random(seed ^ StreamSalt);
        var grammar = new SyntheticGrammar(random);
        var positives = Enumerable.Range(0, count).Select(i => i < count / 2).ToArray();
        random.Shuffle(positives);
        var examples = positives.Select(positive =>
            new LabeledExample(grammar.Review(positive, mixed: random.NextDouble() < 0.25), positive ? Positive : Negative));
        return new TaskDataset(examples, $"synthetic-sentiment (seed {seed})");
    }
}
