using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Models;

/// <summary>A model's whole input-embedding matrix (row t = token t), as the model computes it.</summary>
public static class InputEmbeddings
{
    /// <summary>The matrix as a [vocabulary, hidden] tensor on the model's device, outside autograd.</summary>
    public static Tensor Rows(CausalLM model)
    {
        using var noGrad = no_grad();
        using var ids = arange(model.VocabSize, dtype: ScalarType.Int64, device: model.parameters().First().device);
        return model.EmbedTokens(ids);
    }

    /// <summary>The matrix as plain floats, for code that must not touch TorchSharp.</summary>
    public static float[] Matrix(CausalLM model)
    {
        using var rows = Rows(model);
        return rows.cpu().contiguous().data<float>().ToArray();
    }

    /// <summary>The largest L2 norm of a row of the matrix: the scale of the vectors the model reads.</summary>
    public static double LargestRowNorm(CausalLM model)
    {
        using var rows = Rows(model);
        using var norms = rows.to_type(ScalarType.Float64).pow(2).sum(1).sqrt();
        return norms.max().item<double>();
    }
}
