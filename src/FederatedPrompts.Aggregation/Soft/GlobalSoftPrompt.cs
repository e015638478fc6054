using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Aggregation.Soft;

/// <summary>
/// The aggregated soft prompt: its vectors in prompt order, what the aggregation did, and the clusters the vectors
/// are centroids of with every uploaded vector's attention (null for FedAvg, which neither attends nor clusters).
/// </summary>
public sealed record GlobalSoftPrompt(IReadOnlyList<float[]> Vectors, AggregationNotes Notes, PromptClusters? Clusters = null)
{
    /// <summary>As a <see cref="SoftPrompt"/> of the model whose embedding space the uploads live in.</summary>
    public SoftPrompt ToSoftPrompt(string modelIdentity) =>
        new(Vectors.SelectMany(vector => vector).ToArray(), Vectors.Count, Vectors[0].Length, modelIdentity);
}
