using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Discrete.Search;

namespace FederatedPrompts.Discrete.Tests;

public class DiscretePromptSearchTests
{
    static readonly int[] StartPrompt = [10, 11, 12];
    static readonly FixedProposer Pool = new(TriggerBlackBox.Poison, 20, 21, TriggerBlackBox.Trigger, 22);

    // Skewed local data (6 positive, 2 negative) and a balanced public set, as a non-IID client has.
    static readonly TaskDataset Local = Labeled(Enumerable.Range(0, 6).Select(i => $"good {i}").Concat(["bad 0", "bad 1"]));
    static readonly TaskDataset Public = Labeled(Enumerable.Range(0, 4).SelectMany(i => new[] { $"good public {i}", $"bad public {i}" }));
    const int BatchSize = 8 + 4;                            // all local examples + 2 public per label

    static TaskDataset Labeled(IEnumerable<string> texts) => TinyModel.Dataset(texts.Select(t => (t, TriggerBlackBox.Truth(t))));

    static readonly DiscreteSearchOptions Options = new()
    {
        Iterations = 6, PositionsPerIteration = 2, CandidatesPerPosition = 2, LocalBatchSize = 100, PublicPerLabel = 2, Seed = 3,
    };

    static (DiscreteSearchResult Result, TriggerBlackBox Service) Search(DiscreteSearchOptions options)
    {
        var service = new TriggerBlackBox();
        return (new DiscretePromptSearch(service, Pool, options).Run(StartPrompt, Local, Public), service);
    }

    [Fact]
    public void Finds_the_token_that_flips_the_predictions()
    {
        var (result, _) = Search(Options);
        Assert.Contains(TriggerBlackBox.Trigger, result.Prompt);
        Assert.Equal(8.0 / 12, result.Trajectory[0].AccuracyBefore, 9);   // baseline: everything "positive"
        Assert.Equal(1.0, result.Trajectory[^1].AccuracyAfter);
        var accepted = Assert.Single(result.Accepted);
        Assert.Equal(TriggerBlackBox.Trigger, accepted.NewTokenId);
        Assert.Equal(StartPrompt[accepted.Position], accepted.OldTokenId);
        Assert.Equal(SearchStop.IterationsDone, result.StopReason);
    }

    [Fact]
    public void Accuracy_never_falls_within_or_across_iterations_on_a_fixed_batch_and_within_iterations_on_sampled_ones()
    {
        var (fixedBatch, _) = Search(Options);
        Assert.Equal(Options.Iterations, fixedBatch.Trajectory.Count);
        Assert.All(fixedBatch.Trajectory, r => Assert.True(r.AccuracyAfter >= r.AccuracyBefore));
        for (int i = 1; i < fixedBatch.Trajectory.Count; i++)
            Assert.Equal(fixedBatch.Trajectory[i - 1].AccuracyAfter, fixedBatch.Trajectory[i].AccuracyBefore);

        var (sampled, _) = Search(Options with { LocalBatchSize = 3 });
        Assert.All(sampled.Trajectory, r => Assert.True(r.AccuracyAfter >= r.AccuracyBefore));
        Assert.All(sampled.Accepted, a => Assert.True(a.AccuracyChange > 0));
    }

    [Fact]
    public void Queries_are_counted_exactly_and_the_budget_stops_the_search_before_it_is_passed()
    {
        var (unlimited, service) = Search(Options);
        Assert.Equal(service.Queries, unlimited.QueriesUsed);
        // On a fixed batch: one measurement of the start prompt, then one per memory entry.
        Assert.Equal((1 + unlimited.Memory.Entries.Count) * BatchSize, unlimited.QueriesUsed);

        var (limited, limitedService) = Search(Options with { QueryBudget = 4 * BatchSize + 5 });
        Assert.Equal(SearchStop.BudgetExhausted, limited.StopReason);
        Assert.Equal(4 * BatchSize, limited.QueriesUsed);
        Assert.Equal(limited.QueriesUsed, limitedService.Queries);
        Assert.Equal(3, limited.Memory.Entries.Count);
        Assert.Equal(limited.Trajectory[0].QueriesUsed, limited.QueriesUsed);   // the interrupted iteration is still reported

        var (none, _) = Search(Options with { QueryBudget = BatchSize - 1 });
        Assert.Equal(StartPrompt, none.Prompt);
        Assert.Empty(none.Trajectory);
        Assert.Equal(0, none.QueriesUsed);
    }

    [Fact]
    public void A_budget_stop_right_after_an_accepted_replacement_keeps_it_and_reports_its_accuracy()
    {
        var triggerFirst = new FixedProposer(TriggerBlackBox.Trigger, 20, 21);
        var options = Options with { Iterations = 1, PositionsPerIteration = 1, CandidatesPerPosition = 3, QueryBudget = 2 * BatchSize };

        var result = new DiscretePromptSearch(new TriggerBlackBox(), triggerFirst, options).Run(StartPrompt, Local, Public);

        Assert.Equal(SearchStop.BudgetExhausted, result.StopReason);
        Assert.Contains(TriggerBlackBox.Trigger, result.Prompt);
        var iteration = Assert.Single(result.Trajectory);
        Assert.Equal(1.0, iteration.AccuracyAfter);
    }

    [Fact]
    public void Same_seed_same_run()
    {
        var (first, _) = Search(Options with { LocalBatchSize = 4 });
        var (second, _) = Search(Options with { LocalBatchSize = 4 });
        Assert.Equal(first.Prompt, second.Prompt);
        Assert.Equal(first.Trajectory, second.Trajectory);
        Assert.Equal(first.Memory.Entries, second.Memory.Entries);
        Assert.Equal(first.Accepted, second.Accepted);
    }

    [Fact]
    public void Memory_records_every_evaluation_with_its_accuracy_change_and_steers_away_from_harm()
    {
        var (result, _) = Search(Options);
        double baseline = 8.0 / 12;
        foreach (var entry in result.Memory.Entries.TakeWhile(e => e.TokenId != TriggerBlackBox.Trigger))
            Assert.Equal(entry.TokenId == TriggerBlackBox.Poison ? -baseline : 0, entry.AccuracyChange, 9);
        Assert.Equal(1 - baseline, result.Memory.Entries.First(e => e.TokenId == TriggerBlackBox.Trigger).AccuracyChange, 9);
        // With feedback, a token that hurt at a position is never tried there again.
        var entries = result.Memory.Entries;
        var harmful = Enumerable.Range(0, entries.Count).Where(i => entries[i].AccuracyChange < 0).ToArray();
        Assert.NotEmpty(harmful);
        Assert.All(harmful, i => Assert.DoesNotContain(entries.Skip(i + 1), e => e.Position == entries[i].Position && e.TokenId == entries[i].TokenId));
    }

    [Fact]
    public void Feedback_off_draws_candidates_at_random_and_differs_from_feedback_on()
    {
        var options = Options with { Iterations = 12, PositionsPerIteration = 3, CandidatesPerPosition = 1 };
        var (on, _) = Search(options);
        var (off, _) = Search(options with { UseFeedback = false });
        Assert.NotEqual(on.Memory.Entries, off.Memory.Entries);
        // Feedback on walks the pool in proposer order (harmful token first) and never retries harm where it happened.
        Assert.Equal(TriggerBlackBox.Poison, on.Memory.Entries[0].TokenId);
        var poisonAt = on.Memory.Entries.Where(e => e.TokenId == TriggerBlackBox.Poison && e.AccuracyChange < 0).Select(e => e.Position).ToArray();
        Assert.Equal(poisonAt.Distinct(), poisonAt);
    }
}
