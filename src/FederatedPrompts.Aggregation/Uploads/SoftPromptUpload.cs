namespace FederatedPrompts.Aggregation.Uploads;

/// <summary>A client's soft prompt for one round: its vectors in prompt order, and how many examples it was tuned on.</summary>
public sealed record SoftPromptUpload(string ClientId, IReadOnlyList<float[]> Vectors, int ExampleCount = 1);
