namespace FederatedPrompts.Aggregation.Clustering;

/// <summary>
/// What an aggregation did, for reports: how DBSCAN's eps was chosen (null when no DBSCAN ran), the clusters found
/// (before kept noise and any length cap), and the DBSCAN noise points kept as singletons and dropped.
/// </summary>
public sealed record AggregationNotes(EpsChoice? EpsChoice, int Clusters, int NoiseKept = 0, int NoiseDropped = 0)
{
    /// <summary>DBSCAN's eps, null when no DBSCAN ran.</summary>
    public double? Eps => EpsChoice?.Eps;

    /// <summary>For strategies that do not cluster (FedAvg, attention only).</summary>
    public static AggregationNotes NoClustering { get; } = new(null, 0);
}
