using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Geometry;
using FederatedPrompts.Aggregation.Uploads;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Aggregation.Tokens;

/// <summary>
/// Baseline: FedAvg on token embeddings. Position by position, the example-count-weighted mean of the embeddings
/// (<see cref="PositionwiseMean"/>), mapped to the nearest token of <see cref="TokenAggregationOptions.Vocabulary"/>
/// (the table the uploads were embedded with) under <see cref="TokenAggregationOptions.Metric"/>.
/// </summary>
public sealed class FedAvgTokenStrategy : ITokenAggregationStrategy
{
    readonly TokenAggregationOptions _options;
    readonly ITokenEmbeddings _vocabulary;

    public FedAvgTokenStrategy(TokenAggregationOptions options)
    {
        _options = options;
        _vocabulary = options.Vocabulary ?? throw new ArgumentException("the fedavg token strategy needs the vocabulary embeddings (options.Vocabulary)");
    }

    public string Name => "fedavg";

    public GlobalTokenPrompt Aggregate(IReadOnlyList<TokenPromptUpload> uploads)
    {
        var pooled = PooledVectors.From(uploads);
        if (pooled.Dimension != _vocabulary.Dimension)
            throw new ArgumentException($"uploaded embeddings have {pooled.Dimension} dimensions, the {_vocabulary.Name} token embeddings {_vocabulary.Dimension}");
        var means = PositionwiseMean.Compute(pooled);
        return new GlobalTokenPrompt(NearestTokens.Find(_vocabulary, means, _options.Metric), AggregationNotes.NoClustering);
    }
}
