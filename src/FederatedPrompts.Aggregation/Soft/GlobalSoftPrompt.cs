using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Aggregation.Soft;

/// <summary>The aggregated soft prompt: its vectors in prompt order, and what the aggregation did.</summary>
public sealed record GlobalSoftPrompt(IReadOnlyList<float[]> Vectors, AggregationNotes Notes)
{
    /// <summary>As a <see cref="SoftPrompt"/> of the model whose embedding space the uploads live in.</summary>
    public SoftPrompt ToSoftPrompt(string modelIdentity) =>
        new(Vectors.SelectMany(vector => vector).ToArray(), Vectors.Count, Vectors[0].Length, modelIdentity);
}
