using FederatedPrompts.Aggregation.Geometry;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Coordinator.Rounds;

/// <summary>
/// What the round engine checks uploads against, taken from the loaded models: soft prompts must live in the small
/// model's embedding space (identity and width, every vector's L2 norm at most <see cref="MaxVectorNorm"/>); token
/// prompts must use the tokenizer and its vocabulary.
/// </summary>
public sealed record ModelFacts(string SmallModelIdentity, int HiddenSize, string TokenizerIdentity, int VocabularySize, int MaxPromptLength,
    double MaxVectorNorm)
{
    /// <summary>ArgumentException naming the first way <paramref name="prompt"/> does not fit the run's models.</summary>
    public void Check(Prompt prompt)
    {
        if (prompt.Length > MaxPromptLength)
            throw new ArgumentException($"{Prompt.NameOf(prompt.Mode)} prompt length {prompt.Length} exceeds the limit of {MaxPromptLength}");
        switch (prompt)
        {
            case SoftPrompt soft:
                if (soft.ModelIdentity != SmallModelIdentity)
                    throw new ArgumentException($"soft prompt is for model {soft.ModelIdentity}, not the run's small model {SmallModelIdentity}");
                if (soft.HiddenSize != HiddenSize)
                    throw new ArgumentException($"soft prompt hidden size {soft.HiddenSize} differs from the model's {HiddenSize}");
                for (var row = 0; row < soft.Length; row++)
                {
                    double norm = VectorMath.Norm(soft.Values.Span.Slice(row * soft.HiddenSize, soft.HiddenSize));
                    if (norm > MaxVectorNorm)
                        throw new ArgumentException($"soft prompt vector {row} has L2 norm {norm:G4}, above the run's bound {MaxVectorNorm:G4} (soft.max_vector_norm)");
                }
                break;
            case DiscretePrompt discrete:
                if (discrete.TokenizerIdentity != TokenizerIdentity)
                    throw new ArgumentException($"discrete prompt uses tokenizer {discrete.TokenizerIdentity}, not the run's {TokenizerIdentity}");
                int unknown = discrete.TokenIds.ToList().FindIndex(id => id >= VocabularySize);
                if (unknown >= 0)
                    throw new ArgumentException($"token {unknown} has id {discrete.TokenIds[unknown]}, outside the vocabulary of {VocabularySize}");
                break;
        }
    }
}
