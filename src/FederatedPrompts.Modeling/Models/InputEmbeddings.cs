using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Models;

/// <summary>A model's whole input-embedding matrix as plain floats (row t = token t), for code that must not touch TorchSharp.</summary>
public static class InputEmbeddings
{
    public static float[] Matrix(CausalLM model)
    {
        using var noGrad = no_grad();
        using var ids = arange(model.VocabSize, dtype: ScalarType.Int64, device: model.parameters().First().device);
        using var rows = model.EmbedTokens(ids);
        return rows.cpu().contiguous().data<float>().ToArray();
    }

    /// <summary>The largest L2 norm of a row of the input-embedding matrix: the scale of the vectors the model reads.</summary>
    public static double LargestRowNorm(CausalLM model)
    {
        using var noGrad = no_grad();
        using var ids = arange(model.VocabSize, dtype: ScalarType.Int64, device: model.parameters().First().device);
        using var rows = model.EmbedTokens(ids);
        using var norms = rows.to_type(ScalarType.Float64).pow(2).sum(1).sqrt();
        return norms.max().item<double>();
    }
}
