using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Aggregation.Tokens;
using FederatedPrompts.Aggregation.Uploads;
using FederatedPrompts.Core;

namespace FederatedPrompts.Aggregation.Tests;

public sealed class UploadsFileTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    string Write(params string[] lines) => _dir.Write("uploads.jsonl", string.Join("\n", lines) + "\n");

    string Error(params string[] lines) => Assert.Throws<DataFileException>(() => UploadsFile.Load(Write(lines))).Message;

    /// <summary>Four tokens in two dimensions: 0 and 1 point the same way, 2 and 3 each their own.</summary>
    static readonly VocabularyEmbeddings Vocabulary = new([1, 0, 2, 0, 0, 1, -1, -1], vocabularySize: 4, dimension: 2);

    [Fact]
    public void Discrete_file_is_read_in_order_and_embedded_with_the_vocabulary()
    {
        var file = UploadsFile.Load(Write(
            """{"client": "a", "token_ids": [0, 2], "tokenizer": "t", "examples": 5}""",
            "",
            """{"client": "b", "token_ids": [1, 3], "tokenizer": "t"}"""));
        Assert.Equal((UploadKind.Discrete, "t"), (file.Kind, file.Identity));
        Assert.Equal(["a", "b"], file.ClientIds);
        Assert.Equal([1, 3], file.TokenIds.Select(u => u.Line));
        Assert.Equal([5, 1], file.TokenIds.Select(u => u.ExampleCount));
        var embedded = file.EmbedTokens(Vocabulary);
        Assert.Equal([2f, 0f], embedded[1].Tokens[0].Embedding);
    }

    [Fact]
    public void Feddtpt_result_carries_its_clusters_and_eps_choice()
    {
        var uploads = UploadsFile.Load(Write(
            """{"client": "a", "token_ids": [0, 2], "tokenizer": "t"}""",
            """{"client": "b", "token_ids": [1, 3], "tokenizer": "t"}""")).EmbedTokens(Vocabulary);
        var global = TokenAggregationStrategies.Create("feddtpt").Aggregate(uploads);
        Assert.Equal(3, global.Notes.EpsChoice!.KDistanceCurve.Count);   // tokens 0 and 1 are parallel: one distinct point under cosine
        Assert.Equal(4, global.Clusters!.Pooled.Count);
        Assert.Contains(global.Clusters.Groups, group => group.SequenceEqual([0, 2])); // tokens 0 and 1, parallel
    }

    [Fact]
    public void Token_id_outside_the_vocabulary_names_line_client_and_position()
    {
        var file = UploadsFile.Load(Write("""{"client": "a", "token_ids": [0, 4], "tokenizer": "t"}"""));
        var message = Assert.Throws<DataFileException>(() => file.EmbedTokens(Vocabulary)).Message;
        Assert.EndsWith("uploads.jsonl:1: client 'a' position 1: token id 4 is outside the model's vocabulary of 4", message);
    }

    [Fact]
    public void Soft_values_that_are_not_finite_reach_the_validation()
    {
        Assert.EndsWith("client 'a' position 0: value NaN at dimension 1 is not finite",
            Error("""{"client": "a", "vectors": [[1, "NaN"]], "model": "m"}"""));
        Assert.EndsWith("client 'a' position 0: value Infinity at dimension 0 is not finite", // 1e39 is beyond float range
            Error("""{"client": "a", "vectors": [[1e39, 0]], "model": "m"}"""));
    }

    [Fact]
    public void Line_problems_name_the_line()
    {
        Assert.Contains("uploads.jsonl:1: give either \"token_ids\"", Error("""{"client": "a", "tokenizer": "t"}"""));
        Assert.Contains("uploads.jsonl:1: field \"model\" does not belong to a discrete upload",
            Error("""{"client": "a", "token_ids": [1], "tokenizer": "t", "model": "m"}"""));
        Assert.Contains("uploads.jsonl:1: token_ids[1] must be a whole number", Error("""{"client": "a", "token_ids": [1, 2.5], "tokenizer": "t"}"""));
        Assert.Contains("uploads.jsonl:1: \"client\" must be a non-empty string", Error("""{"token_ids": [1], "tokenizer": "t"}"""));
        Assert.Contains("uploads.jsonl:2: tokenizer \"u\" differs from \"t\" (line 1)",
            Error("""{"client": "a", "token_ids": [1], "tokenizer": "t"}""", """{"client": "b", "token_ids": [1], "tokenizer": "u"}"""));
        Assert.EndsWith("uploads.jsonl: no uploads", Error("", "  "));
    }
}
