using FederatedPrompts.Discrete.Proposal;
using FederatedPrompts.Discrete.Search;

namespace FederatedPrompts.Discrete.Tests;

public class FeedbackMemoryTests
{
    static TokenCandidate[] Pool(params int[] ids) => ids.Select(id => new TokenCandidate(id, CandidateSources.Contextual)).ToArray();

    [Fact]
    public void Record_keeps_entries_sums_scores_per_token_and_avoids_only_where_accuracy_fell()
    {
        var memory = new FeedbackMemory();
        memory.Record(0, 7, -0.25);
        memory.Record(1, 7, 0.5);
        memory.Record(1, 8, 0);

        Assert.Equal([new FeedbackEntry(0, 7, -0.25), new FeedbackEntry(1, 7, 0.5), new FeedbackEntry(1, 8, 0)], memory.Entries);
        Assert.Equal(0.25, memory.Score(7));
        Assert.Equal(0, memory.Score(9));
        Assert.True(memory.Avoids(0, 7));
        Assert.False(memory.Avoids(1, 7));
        Assert.False(memory.Avoids(1, 8));                  // no change is not harm
        Assert.Equal(1, memory.TriesAt(1, 8));
    }

    [Fact]
    public void Rank_drops_harmful_tokens_here_puts_helpful_ones_first_untried_before_retried_and_keeps_proposer_order()
    {
        var memory = new FeedbackMemory();
        memory.Record(0, 1, -0.1);                          // token 1 hurt at position 0
        memory.Record(1, 2, 0.2);                           // token 2 helped at position 1
        memory.Record(0, 3, 0);                             // token 3 tried at 0, no change
        memory.Record(2, 5, -0.05);                         // token 5 hurt elsewhere

        Assert.Equal([2, 4, 3, 5], memory.Rank(Pool(1, 2, 3, 4, 5), 0).Select(c => c.TokenId));
        Assert.Equal([2, 3, 4, 5, 1], memory.Rank(Pool(1, 2, 3, 4, 5), 1).Select(c => c.TokenId));
    }
}
