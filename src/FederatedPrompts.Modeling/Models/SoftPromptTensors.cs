using FederatedPrompts.Core.Prompts;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Models;

/// <summary>A soft prompt between its stored form (<see cref="SoftPrompt"/>, plain floats) and the [length, hidden] tensor a model reads.</summary>
public static class SoftPromptTensors
{
    /// <summary>The prompt as a [length, hidden] float32 tensor on the device of <paramref name="model"/>, which it will be fed to.</summary>
    public static Tensor ToTensor(this SoftPrompt prompt, CausalLM model) =>
        tensor(prompt.Values.ToArray(), device: model.parameters().First().device).reshape(prompt.Length, prompt.HiddenSize);

    /// <summary>A [length, hidden] tensor, on any device, as a soft prompt in the embedding space <paramref name="modelIdentity"/>.</summary>
    public static SoftPrompt ToSoftPrompt(this Tensor prompt, string modelIdentity)
    {
        if (prompt.dim() != 2) throw new ArgumentException($"a soft prompt is [length, hidden], not [{string.Join(", ", prompt.shape)}]");
        return new SoftPrompt(prompt.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray(),
            (int)prompt.shape[0], (int)prompt.shape[1], modelIdentity);
    }
}
