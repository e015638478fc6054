using FederatedPrompts.Core.Synthetic;
using FederatedPrompts.Core.Tasks;

namespace FederatedPrompts.Cli;

/// <summary>
/// The download-free defaults: a generated corpus to pretrain on and a generated sentiment task, both from the
/// run's seed (the task from a separate stream, so its texts are not corpus sentences).
/// </summary>
public static class BuiltInData
{
    public const int CorpusDocuments = 20000, TrainExamples = 1000, TestExamples = 400;

    public static IReadOnlyList<string> Corpus(int seed) => SyntheticCorpus.Generate(seed, CorpusDocuments);

    public static TaskDataset SentimentTrain(int seed) => SyntheticSentimentTask.Generate(seed, TrainExamples);

    public static TaskDataset SentimentTest(int seed) => SyntheticSentimentTask.Generate(seed + 1, TestExamples);

    /// <summary>
    /// Public unlabeled texts of the task's domain for POST's transfer: reviews from a third stream, labels dropped (as the
    /// POST paper transfers sst2 prompts on unlabeled IMDb reviews). The corpus itself is a poor transfer set: its reviews
    /// come with a genre's opening and closing sentence, which the task's inputs never have.
    /// </summary>
    public static IEnumerable<string> PublicReviews(int seed) => SyntheticSentimentTask.Generate(seed + 2, TrainExamples).Examples.Select(example => example.Text);
}
