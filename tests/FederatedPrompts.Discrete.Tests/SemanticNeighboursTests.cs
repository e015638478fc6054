using FederatedPrompts.Discrete.Proposal;
using FederatedPrompts.Semantics;
using static TorchSharp.torch;

namespace FederatedPrompts.Discrete.Tests;

/// <summary>The proposer's neighbours by meaning: in MiniLM's space a search can move from " good" to " great" or " excellent".</summary>
public class SemanticNeighboursTests
{
    static readonly string[] Words = [" good", " table", " excellent", " ran", " blue", " great", " the", " window"];

    [Fact]
    public void The_nearest_tokens_to_good_are_great_and_excellent_in_the_encoders_space()
    {
        var space = new EncodedTokenEmbeddings("semantic-neighbours-test", Words.Length, id => Words[id]);
        var rows = space.Embed(Enumerable.Range(0, Words.Length).ToArray());
        var neighbours = new EmbeddingNeighbours(tensor(rows.SelectMany(row => row).ToArray(), [rows.Count, space.Dimension]));

        var nearest = neighbours.Nearest(0, 2).Select(n => Words[n.TokenId]).ToHashSet();

        Assert.Equal([" great", " excellent"], nearest);
    }
}
