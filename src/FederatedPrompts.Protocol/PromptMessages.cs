using System.Security.Cryptography;
using FederatedPrompts.Core.Prompts;
using Google.Protobuf;
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

    /// <summary>
    /// The message rebuilt from its validated domain value, so equal prompts have equal bytes: unknown fields are dropped,
    /// and so is a discrete prompt's text (the client's decoding; the coordinator decodes ids with its own tokenizer).
    /// ArgumentException as the readers for a malformed message.
    /// </summary>
    public static PromptValue Canonical(PromptValue message)
    {
        if (message.KindCase != PromptValue.KindOneofCase.Discrete) return ToMessage(ToSoftPrompt(message));
        var discrete = ToDiscretePrompt(message);
        return ToMessage(new DiscretePrompt(discrete.TokenIds, discrete.TokenizerIdentity));
    }

    /// <summary><paramref name="message"/> without the fields its schema does not know, which are never stored.</summary>
    public static T KnownFieldsOnly<T>(T message) where T : IMessage<T>, new() =>
        new MessageParser<T>(() => new T()).WithDiscardUnknownFields(true).ParseFrom(message.ToByteArray());

    /// <summary>
    /// A prompt's version: the lowercase hex SHA-256 of its serialized bytes. Pass a <see cref="Canonical"/> message (the
    /// coordinator makes, stores and sends only those), so that equal prompts have equal versions.
    /// </summary>
    public static string Version(PromptValue message) => Convert.ToHexStringLower(SHA256.HashData(message.ToByteArray()));

    static string Describe(PromptValue? message) => message?.KindCase switch
    {
        PromptValue.KindOneofCase.Soft => "a soft prompt",
        PromptValue.KindOneofCase.Discrete => "a discrete prompt",
        _ => "no prompt",
    };
}
