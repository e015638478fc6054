using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Geometry;

/// <summary>
/// FedAvg (McMahan et al., 2017) over prompts: position n of the result is the mean of position n of every prompt
/// long enough to have one, weighted by the clients' example counts. The result is as long as the longest prompt.
/// </summary>
public static class PositionwiseMean
{
    public static float[][] Compute(PooledVectors pooled)
    {
        var length = pooled.Position.Max() + 1;
        return Enumerable.Range(0, length).Select(position =>
        {
            var at = Enumerable.Range(0, pooled.Count).Where(i => pooled.Position[i] == position).ToArray();
            return VectorMath.WeightedMean(at.Select(i => pooled.Vectors[i]).ToArray(), at.Select(i => (double)pooled.ExampleCounts[pooled.Client[i]]).ToArray());
        }).ToArray();
    }
}
