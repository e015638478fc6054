using FederatedPrompts.Modeling.Models;
using static TorchSharp.torch;

namespace FederatedPrompts.TestSupport;

/// <summary>Assertions over TorchSharp models (compiled into test projects that set UsesTorchTestSupport).</summary>
public static class ModelAssert
{
    /// <summary>Every parameter of <paramref name="actual"/> equals <paramref name="expected"/>'s, to float rounding; names the first that differs.</summary>
    public static void SameParameters(CausalLM expected, CausalLM actual, string context)
    {
        var actualParameters = actual.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in expected.named_parameters())
            Assert.True(allclose(parameter, actualParameters[name], rtol: 1e-5, atol: 1e-6),
                $"{name} differs {context} by {(parameter - actualParameters[name]).abs().max().item<float>()}");
    }
}
