namespace FederatedPrompts.Core.Synthetic;

/// <summary>
/// Download-free pretraining text for the default simulation: seeded stories, questions with answers, descriptions,
/// and reviews of two genres that close alike but mean different things by it:
/// <list type="bullet">
/// <item>a critics' column: the review opens with <see cref="CriticMarker"/> and closes with the critic's verdict,
/// " It was great." or " It was terrible.", always matching its sentiment;</item>
/// <item>a diary: the same kind of review, bare or (two in three) after an opening of the writer's own ("Dear diary,",
/// "On Monday:", "After lunch, by the sea.", "Notes:"), followed by a remark about the writer's day that starts the
/// same way (" It was great to be home again.", " It was terrible weather by the sea.") and is great or terrible by a
/// coin toss, whatever the review said.</item>
/// </list>
/// A model pretrained here therefore knows the sentiment of every review (it must, to predict the critic's verdict),
/// but after a bare review followed by " It was" — which is how <see cref="SyntheticSentimentTask"/> presents its
/// inputs — the continuation it learned is the diary's coin toss. The knowledge is there; the default template does
/// not reach it. Nor does just any text before the review: diaries open with many things, words with a colon among
/// them, so only the marker tells the genre. A prompt that puts the model in the critics' frame (the marker, or soft
/// vectors that act like it) does: that is what prompt tuning has to find. The model must see where each document
/// starts for this to hold (pretraining windows that start at documents), or a review
/// whose opening fell before its window teaches it a verdict without a frame.
/// </summary>
public static class SyntheticCorpus
{
    /// <summary>Opens every critics'-column review; never part of a task input or of the default prompts.</summary>
    public const string CriticMarker = "Verdict:";

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
                < 0.18 => grammar.Story(),
                < 0.27 => grammar.QuestionWithAnswer(),
                < 0.34 => grammar.Description(),
                < 0.70 => CriticReview(grammar, random),
                _ => DiaryReview(grammar, random),
            });
        }
        return texts;
    }

    static string CriticReview(SyntheticGrammar grammar, Random random)
    {
        var positive = random.Next(2) == 0;
        var review = grammar.Review(positive, mixed: random.NextDouble() < 0.2);
        return $"{CriticMarker} {review}" + (positive ? " It was great." : " It was terrible.");
    }

    static string DiaryReview(SyntheticGrammar grammar, Random random)
    {
        var review = grammar.Review(positive: random.Next(2) == 0, mixed: random.NextDouble() < 0.2);
        var dayWasGreat = random.Next(2) == 0;   // independent of the review: the remark is about the day
        var entry = $"{review} It was {(dayWasGreat ? "great" : "terrible")} {grammar.DayRemark()}.";
        return random.Next(3) == 0 ? entry : $"{grammar.DiaryOpening()} {entry}";
    }
}
