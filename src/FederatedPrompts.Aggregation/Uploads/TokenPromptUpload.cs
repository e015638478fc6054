namespace FederatedPrompts.Aggregation.Uploads;

/// <summary>A client's discrete prompt for one round: its tokens in prompt order, and how many examples it was tuned on.</summary>
public sealed record TokenPromptUpload(string ClientId, IReadOnlyList<PromptToken> Tokens, int ExampleCount = 1);
