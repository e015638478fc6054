namespace FederatedPrompts.Aggregation.Geometry;

/// <summary>How clustering measures the distance between two embedding vectors.</summary>
public enum DistanceMetric
{
    /// <summary>1 − cosine similarity: direction only, the notion of semantic similarity the attention step uses too.</summary>
    Cosine,
    /// <summary>Straight-line (L2) distance.</summary>
    Euclidean,
}
