namespace FederatedPrompts.Coordinator.Rounds;

/// <summary>
/// What the round engine checks uploads against, taken from the loaded models: soft prompts must live in the small
/// model's embedding space (identity and width, every vector's L2 norm at most <see cref="MaxVectorNorm"/>); token
/// prompts must use the tokenizer and its vocabulary.
/// </summary>
public sealed record ModelFacts(string SmallModelIdentity, int HiddenSize, string TokenizerIdentity, int VocabularySize, int MaxPromptLength,
    double MaxVectorNorm);
