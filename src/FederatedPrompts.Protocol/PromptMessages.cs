using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Protocol.V1;

namespace FederatedPrompts.Protocol;

/// <summary>
/// Prompt values to and from their wire messages. Reading validates through Core's constructors, so a malformed
/// message (wrong value count, NaN, negative ids, no identity) fails with an <see cref="ArgumentException"/> that
/// names the problem, before anything stores it.
/// </summary>
public static class PromptMessages
{
    public static PromptValue ToMessage(SoftPrompt prompt)
    {
        var soft = new SoftPromptValue { Length = prompt.Length, HiddenSize = prompt.HiddenSize, ModelIdentity = prompt.ModelIdentity };
        soft.Values.AddRange(prompt.Values.ToArray());
        return new PromptValue { Soft = soft };
    }

    public static PromptValue ToMessage(DiscretePrompt prompt)
    {
        var discrete = new DiscretePromptValue { TokenizerIdentity = prompt.TokenizerIdentity, Text = prompt.Text ?? "" };
        discrete.TokenIds.AddRange(prompt.TokenIds);
        return new PromptValue { Discrete = discrete };
    }

    public static SoftPrompt ToSoftPrompt(PromptValue message) => message.KindCase == PromptValue.KindOneofCase.Soft
        ? new SoftPrompt(message.Soft.Values.ToArray(), message.Soft.Length, message.Soft.HiddenSize, message.Soft.ModelIdentity)
        : throw new ArgumentException($"expected a soft prompt, got {Describe(message)}");

    public static DiscretePrompt ToDiscretePrompt(PromptValue message) => message.KindCase == PromptValue.KindOneofCase.Discrete
        ? new DiscretePrompt(message.Discrete.TokenIds, message.Discrete.TokenizerIdentity, message.Discrete.Text is "" ? null : message.Discrete.Text)
        : throw new ArgumentException($"expected a discrete prompt, got {Describe(message)}");

    public static PromptValue ToMessage(Prompt prompt) => prompt switch
    {
        SoftPrompt soft => ToMessage(soft),
        DiscretePrompt discrete => ToMessage(discrete),
        _ => throw new ArgumentException($"no message for {prompt.GetType().Name}"),
    };

    /// <summary>The prompt a message carries, of either mode; ArgumentException for a message with none or a malformed one.</summary>
    public static Prompt ToPrompt(PromptValue? message) => message?.KindCase switch
    {
        PromptValue.KindOneofCase.Soft => ToSoftPrompt(message),
        PromptValue.KindOneofCase.Discrete => ToDiscretePrompt(message),
        _ => throw new ArgumentException("the message carries no prompt"),
    };

    static string Describe(PromptValue? message) => message?.KindCase switch
    {
        PromptValue.KindOneofCase.Soft => "a soft prompt",
        PromptValue.KindOneofCase.Discrete => "a discrete prompt",
        _ => "no prompt",
    };
}
