using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Aggregation.Soft;
using FederatedPrompts.Aggregation.Tokens;
using FederatedPrompts.Aggregation.Uploads;
using static FederatedPrompts.Aggregation.Tests.Build;

namespace FederatedPrompts.Aggregation.Tests;

public sealed class ValidationTests
{
    static string TokenError(params TokenPromptUpload[] uploads) =>
        Assert.Throws<ArgumentException>(() => TokenAggregationStrategies.Create("feddtpt").Aggregate(uploads)).Message;

    static string SoftError(params SoftPromptUpload[] uploads) =>
        Assert.Throws<ArgumentException>(() => SoftPromptAggregationStrategies.Create("fedavg").Aggregate(uploads)).Message;

    [Fact]
    public void No_uploads()
    {
        Assert.Equal("no uploads to aggregate", TokenError());
        Assert.Equal("no uploads to aggregate", SoftError());
    }

    [Fact]
    public void Empty_prompt_names_the_client()
    {
        Assert.Equal("client 'b' uploaded an empty prompt", TokenError(TokenUpload("a", (1, V(1, 0))), TokenUpload("b")));
        Assert.Equal("client 'b' uploaded an empty prompt", SoftError(SoftUpload("a", V(1, 0)), SoftUpload("b")));
    }

    [Fact]
    public void Dimension_mismatch_names_client_position_and_reference()
    {
        Assert.Equal("client 'b' position 1: vector has 3 dimensions, expected 2 (as client 'a')",
            TokenError(TokenUpload("a", (1, V(1, 0))), TokenUpload("b", (2, V(0, 1)), (3, V(1, 2, 3)))));
        Assert.Equal("client 'a' position 1: vector is missing or empty", SoftError(SoftUpload("a", V(1, 0), V())));
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "Infinity")]
    [InlineData(float.NegativeInfinity, "-Infinity")]
    public void Non_finite_values_name_client_position_and_dimension(float bad, string shown)
    {
        Assert.Equal($"client 'b' position 0: value {shown} at dimension 1 is not finite",
            SoftError(SoftUpload("a", V(1, 0)), SoftUpload("b", V(1, bad))));
        Assert.Equal($"client 'b' position 0: value {shown} at dimension 1 is not finite",
            TokenError(TokenUpload("a", (1, V(1, 0))), TokenUpload("b", (1, V(1, bad)))));
    }

    [Fact]
    public void Duplicate_client_ids_name_both_uploads()
    {
        Assert.Equal("client 'a' uploaded twice (uploads 0 and 2)",
            TokenError(TokenUpload("a", (1, V(1, 0))), TokenUpload("b", (1, V(1, 0))), TokenUpload("a", (1, V(1, 0)))));
    }

    [Fact]
    public void Other_bad_fields()
    {
        Assert.Equal("upload 0 has no client id", TokenError(TokenUpload(" ", (1, V(1, 0)))));
        Assert.Equal("client 'a' position 1: token id -4 is negative", TokenError(TokenUpload("a", (1, V(1, 0)), (-4, V(0, 1)))));
        Assert.Equal("client 'a' reports 0 examples; must be positive", SoftError(SoftUpload("a", V(1, 0)) with { ExampleCount = 0 }));
    }

    [Fact]
    public void FedAvg_vocabulary_must_match_the_embeddings()
    {
        var strategy = TokenAggregationStrategies.Create("fedavg", new TokenAggregationOptions(Vocabulary: new VocabularyEmbeddings([1, 0, 0], 1, 3)));
        Assert.Equal("uploaded embeddings have 2 dimensions, the lm token embeddings 3",
            Assert.Throws<ArgumentException>(() => strategy.Aggregate([TokenUpload("a", (0, V(1, 0)))])).Message);
        Assert.Throws<ArgumentException>(() => new VocabularyEmbeddings([1, 0, 0], 2, 2));
        Assert.Throws<ArgumentException>(() => new VocabularyEmbeddings([1, float.NaN], 1, 2));
    }

    [Fact]
    public void Options_out_of_range_are_rejected_where_they_are_made()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenAggregationOptions(MinSamples: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenAggregationOptions() with { PromptLength = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new SoftAggregationOptions(MaxLength: -1));
        Assert.Null(new SoftAggregationOptions().MaxLength);
    }
}
