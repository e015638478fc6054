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
}
