using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Discrete.BlackBox;
using FederatedPrompts.Discrete.Proposal;
using FederatedPrompts.Discrete.Search;
using FederatedPrompts.Modeling.Classification;

namespace FederatedPrompts.Discrete.Tests;

/// <summary>The whole client path on a real (tiny) model: proposer LM, metered local service, search.</summary>
public class LocalServiceSearchTests
{
    static readonly TinyModel Tiny = new();
    static readonly TokenProposer Proposer = new(Tiny.Model, Tiny.Tokenizer, contextualTopK: 6, neighbourTopK: 6);
    static readonly int[] Start = Tiny.Encode(" a joy it was terrible").ToArray();
    static readonly TaskDataset NoPublic = new([]);

    static string[] Answers(int[] prompt) =>
        Tiny.Classifier.Predict(TinyModel.Texts, new PromptInput(Discrete: prompt)).Select(i => Tiny.Classifier.Labels[i]).ToArray();

    /// <summary>
    /// A task the start prompt gets partly wrong and one proposed token gets entirely right: the labels are the model's
    /// own answers under the start prompt with the single proposed replacement that changes the most answers.
    /// </summary>
    static TaskDataset OneTokenTask()
    {
        var startAnswers = Answers(Start);
        var (answers, changed) = Enumerable.Range(0, Start.Length)
            .SelectMany(position => Proposer.Propose(Start, position).Select(candidate =>
            {
                var prompt = Start.ToArray();
                prompt[position] = candidate.TokenId;
                var target = Answers(prompt);
                return (target, target.Zip(startAnswers).Count(pair => pair.First != pair.Second));
            }))
            .MaxBy(option => option.Item2);
        Assert.True(changed >= 4, $"no proposed token changes the tiny model's answers enough ({changed})");
        return TinyModel.Dataset(TinyModel.Texts.Zip(answers));
    }

    static readonly DiscreteSearchOptions Options = new()
    {
        Iterations = 1, PositionsPerIteration = Start.Length, CandidatesPerPosition = 100, LocalBatchSize = 100, PublicPerLabel = 0, Seed = 2,
    };

    [Fact]
    public void Finds_a_prompt_that_beats_the_start_and_reports_what_the_service_metered()
    {
        var task = OneTokenTask();
        var service = new LocalBlackBoxClassifier(new LanguageModelBlackBox(Tiny.Classifier), Tiny.Tokenizer);

        var result = new DiscretePromptSearch(service, Proposer, Options).Run(Start, task, NoPublic);

        var examples = task.Examples.Select(e => (e.Text, e.Label)).ToList();
        double startAccuracy = Tiny.Classifier.Evaluate(examples, new PromptInput(Discrete: Start)).Accuracy;
        double finalAccuracy = Tiny.Classifier.Evaluate(examples, new PromptInput(Discrete: result.Prompt)).Accuracy;
        Assert.Equal(startAccuracy, result.Trajectory[0].AccuracyBefore, 9);
        Assert.Equal(finalAccuracy, result.Trajectory[^1].AccuracyAfter, 9);
        Assert.True(finalAccuracy > startAccuracy, $"accuracy {startAccuracy:F3} → {finalAccuracy:F3}");
        Assert.Equal(service.Queries, result.QueriesUsed);
    }

    [Fact]
    public void The_services_own_budget_ends_the_search_cleanly_with_what_was_accepted()
    {
        int batch = TinyModel.Texts.Length;
        var service = new LocalBlackBoxClassifier(new LanguageModelBlackBox(Tiny.Classifier), Tiny.Tokenizer, queryBudget: 5 * batch + 3);

        var result = new DiscretePromptSearch(service, Proposer, Options).Run(Start, OneTokenTask(), NoPublic);

        Assert.Equal(SearchStop.BudgetExhausted, result.StopReason);
        Assert.Equal(5 * batch, service.Queries);
        Assert.Equal(service.Queries, result.QueriesUsed);
        Assert.Equal(4, result.Memory.Entries.Count);
        Assert.True(result.Trajectory[^1].AccuracyAfter >= result.Trajectory[0].AccuracyBefore);
    }
}
