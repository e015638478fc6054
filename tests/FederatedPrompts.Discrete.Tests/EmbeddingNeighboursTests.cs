using FederatedPrompts.Discrete.Proposal;
using static TorchSharp.torch;

namespace FederatedPrompts.Discrete.Tests;

public class EmbeddingNeighboursTests
{
    // Cosines to row 0 = (1,0), by hand: 1 → 1, 2 → 1/√2, 3 → 0, 4 → −1, 5 (zero row) → 0, 6 → 3/√10.
    static readonly EmbeddingNeighbours Neighbours = new(tensor(new float[,]
    {
        { 1, 0 }, { 2, 0 }, { 1, 1 }, { 0, 1 }, { -1, 0 }, { 0, 0 }, { 3, 1 },
    }));

    [Fact]
    public void Nearest_tokens_are_sorted_by_cosine_with_ties_by_lower_id_and_exclude_the_token_itself()
    {
        var nearest = Neighbours.Nearest(0, 6);
        Assert.Equal([1, 6, 2, 3, 5, 4], nearest.Select(n => n.TokenId));
        double[] expected = [1, 3 / Math.Sqrt(10), 1 / Math.Sqrt(2), 0, 0, -1];
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], nearest[i].Cosine, 5);
    }

    [Fact]
    public void Count_and_the_allowed_filter_cut_the_list()
    {
        Assert.Equal([1, 6], Neighbours.Nearest(0, 2).Select(n => n.TokenId));
        Assert.Equal([6, 2, 3], Neighbours.Nearest(0, 3, id => id != 1).Select(n => n.TokenId));
        Assert.Equal([2, 6, 0], Neighbours.Nearest(3, 3).Select(n => n.TokenId));   // to (0,1): 1/√2, 1/√10, then rows 0, 1, 4, 5 tie at 0
    }
}
