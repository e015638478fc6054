using FederatedPrompts.Aggregation.Tokens;
using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Semantics.Tests;

/// <summary>FedDTPT's server with token embeddings by meaning: the pretrained encoder's vectors make DBSCAN group near-synonyms.</summary>
public sealed class MeaningTests
{
    static readonly string[] Words = [" great", " excellent", " wonderful", " terrible", " awful", " horrible", " movie", " film", " the", " and", " story"];

    static readonly EncodedTokenEmbeddings Embeddings = new("meaning-test-words", Words.Length, id => Words[id]);

    static TokenPromptUpload Upload(string client, params string[] tokens)
    {
        var ids = tokens.Select(token => Array.IndexOf(Words, token)).ToArray();
        return new TokenPromptUpload(client, ids.Zip(Embeddings.Embed(ids), (id, vector) => new PromptToken(id, vector)).ToArray());
    }

    /// <summary>
    /// Four clients whose prompts say the same thing in different words. Under the default settings (min_samples 2,
    /// cosine, kneed knee; measured eps ≈ 0.178 at knee index 8 of 12) DBSCAN finds exactly the three concepts; " the",
    /// " and" and " story" resemble nothing another client uploaded and are dropped as noise.
    /// </summary>
    [Fact]
    public void Near_synonyms_fall_in_one_cluster_under_the_default_settings()
    {
        TokenPromptUpload[] uploads =
        [
            Upload("A", " great", " movie", " terrible"),
            Upload("B", " excellent", " film", " awful"),
            Upload("C", " wonderful", " story", " horrible"),
            Upload("D", " the", " movie", " and"),
        ];
        var prompt = TokenAggregationStrategies.Create("feddtpt").Aggregate(uploads);
        var ids = uploads.SelectMany(upload => upload.Tokens.Select(token => token.TokenId)).ToArray();
        var groups = prompt.Clusters!.Groups.Select(members => members.Select(i => Words[ids[i]]).Distinct().Order().ToArray()).ToArray();
        Assert.Equal(
            [[" excellent", " great", " wonderful"], [" film", " movie"], [" awful", " horrible", " terrible"]],
            groups);
        Assert.True(prompt.Notes.Eps > 0);
        Assert.Equal((3, 0, 3), (prompt.Notes.Clusters, prompt.Notes.NoiseKept, prompt.Notes.NoiseDropped));
        Assert.Equal(3, prompt.TokenIds.Count);
    }
}
