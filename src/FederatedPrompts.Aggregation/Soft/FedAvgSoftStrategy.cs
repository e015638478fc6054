using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Geometry;
using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Soft;

/// <summary>Baseline: FedAvg, the example-count-weighted position-wise mean (<see cref="PositionwiseMean"/>).</summary>
public sealed class FedAvgSoftStrategy : ISoftPromptAggregationStrategy
{
    public string Name => "fedavg";

    public GlobalSoftPrompt Aggregate(IReadOnlyList<SoftPromptUpload> uploads)
    {
        var means = PositionwiseMean.Compute(PooledVectors.From(uploads));
        return new GlobalSoftPrompt(means, AggregationNotes.NoClustering);
    }
}
