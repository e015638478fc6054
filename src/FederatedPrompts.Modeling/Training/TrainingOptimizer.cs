using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Training;

/// <summary>
/// AdamW in the two parameter groups of nanoGPT's <c>configure_optimizers</c> (karpathy/nanoGPT, model.py): weight decay on
/// every parameter of two or more dimensions (the matrices of attention and MLP, the LM head, and the token and position
/// embeddings, which nanoGPT decays too), none on the vectors (biases, LayerNorm and RMSNorm weights). Decay pulls a weight
/// towards zero; a norm weight's neutral value is one and a bias only shifts, so decaying them is not regularization but a
/// drift that the loss has to keep undoing.
/// </summary>
public static class TrainingOptimizer
{
    /// <summary>Whether <see cref="Create"/> puts the parameter in the decayed group: it has two or more dimensions.</summary>
    public static bool Decays(Parameter parameter) => parameter.dim() >= 2;

    /// <summary>
    /// AdamW over <paramref name="parameters"/> at <see cref="PretrainOptions.LearningRate"/>: first the decayed group
    /// (<see cref="PretrainOptions.WeightDecay"/>), then the rest (no decay), each in the given order, so that a checkpoint's
    /// optimizer state lines up with the optimizer of a resumed run.
    /// </summary>
    public static AdamW Create(IReadOnlyList<Parameter> parameters, PretrainOptions options) => optim.AdamW(
    [
        new AdamW.ParamGroup(parameters.Where(Decays).ToArray(), new AdamW.Options { weight_decay = options.WeightDecay }),
        new AdamW.ParamGroup(parameters.Where(p => !Decays(p)).ToArray(), new AdamW.Options { weight_decay = 0 }),
    ], options.LearningRate);
}
