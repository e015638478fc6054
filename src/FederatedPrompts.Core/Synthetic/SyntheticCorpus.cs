namespace FederatedPrompts.Core.Synthetic;

/// <summary>
/// Download-free pretraining text for the default simulation: seeded stories, questions with answers,
/// descriptions and reviews. Every review closes with " It was great." or " It was terrible." to match its
/// sentiment, so a model pretrained here already prefers the right word after "... It was" — the zero-shot
/// signal that <see cref="SyntheticSentimentTask"/> and its prompt build on.
/// </summary>
public static class SyntheticCorpus
{
    public static IReadOnlyList<string> Generate(int seed, int documents)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(documents);
        var random = new Random(seed);
        var grammar = new SyntheticGrammar(random);
        var texts = new List<string>(documents);
        for (var i = 0; i < documents; i++)
        {
            var kind = random.NextDouble();
            texts.Add(kind switch
            {
                < 0.35 => grammar.Story(),
                < 0.50 => grammar.QuestionWithAnswer(),
                < 0.60 => grammar.Description(),
                _ => ClosedReview(grammar, random),
            });
        }
        return texts;
    }

    static string ClosedReview(SyntheticGrammar grammar, Random random)
    {
        var positive = random.Next(2) == 0;
        var review = grammar.Review(positive, mixed: random.NextDouble() < 0.2);
        return review + (positive ? " It was great." : " It was terrible.");
    }
}
