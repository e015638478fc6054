using FederatedPrompts.Modeling.Models;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Tests;

/// <summary>Prompt tuning trains input embeddings through a frozen model: gradients must reach them, masked or not.</summary>
public class GradientTests
{
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void Loss_gradient_reaches_the_input_embeddings(string family)
    {
        var config = family == "gpt2" ? ReferenceForwardTests.Gpt2() : ReferenceForwardTests.Llama(heads: 4, kvHeads: 2);
        var model = HfCheckpoint.Create(config, seed: 1);
        using var ids = tensor(new long[,] { { 5, 6, 7, 8 }, { 0, 0, 9, 10 } });
        using var mask = tensor(new long[,] { { 1, 1, 1, 1 }, { 0, 0, 1, 1 } });
        using var embeds = model.EmbedTokens(ids).detach().requires_grad_(true);
        using var logits = model.LmHead(model.HiddenStates(embeds, mask));
        // A loss over real positions only: padding is never attended to, so padded embeddings get exactly zero gradient.
        using var loss = logits[0].logsumexp(-1).sum() + logits[1, 2..].logsumexp(-1).sum();
        loss.backward();

        using var gradient = embeds.grad!;
        Assert.False(gradient.isnan().any().item<bool>());
        Assert.True(gradient[0].abs().sum().item<float>() > 0);
        Assert.True(gradient[1, 2..].abs().sum().item<float>() > 0);
        Assert.Equal(0f, gradient[1, ..2].abs().sum().item<float>());
    }
}
