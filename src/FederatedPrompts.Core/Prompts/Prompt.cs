namespace FederatedPrompts.Core.Prompts;

/// <summary>What a client tunes and a run aggregates: soft vectors on the small model (POST) or real tokens (FedDTPT).</summary>
public enum PromptMode { Soft, Discrete }

/// <summary>
/// A prompt of either mode: a <see cref="SoftPrompt"/> or a <see cref="DiscretePrompt"/>. The federation passes global
/// prompts and updates as this type and matches on the case where the mode matters.
/// </summary>
public abstract class Prompt
{
    private protected Prompt() { }

    public abstract PromptMode Mode { get; }

    /// <summary>Positions: soft vectors, or tokens.</summary>
    public abstract int Length { get; }

    public static string NameOf(PromptMode mode) => mode == PromptMode.Soft ? "soft" : "discrete";
}
