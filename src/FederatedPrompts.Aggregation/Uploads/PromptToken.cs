namespace FederatedPrompts.Aggregation.Uploads;

/// <summary>One token of an uploaded discrete prompt: its id and its row of the model's input-embedding matrix (the caller looks it up).</summary>
public sealed record PromptToken(int TokenId, float[] Embedding);
