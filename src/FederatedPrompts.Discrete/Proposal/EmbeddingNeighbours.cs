using TorchSharp;
using static TorchSharp.torch;

namespace FederatedPrompts.Discrete.Proposal;

public sealed record TokenSimilarity(int TokenId, double Cosine);

/// <summary>
/// Nearest tokens to a token by cosine similarity of rows of an embedding matrix [V,H]. Rows are normalised once;
/// a zero row has cosine 0 with everything (as in the aggregation's attention).
/// </summary>
public sealed class EmbeddingNeighbours
{
    readonly Tensor _unitRows;

    public EmbeddingNeighbours(Tensor embeddings)
    {
        if (embeddings.dim() != 2) throw new ArgumentException($"embedding matrix must be [V,H], got [{string.Join(",", embeddings.shape)}]");
        using var noGrad = no_grad();
        var rows = embeddings.detach().to(float32).cpu();
        _unitRows = rows / rows.norm(1, keepdim: true).clamp_min(1e-12);
    }

    public int Count => (int)_unitRows.shape[0];

    /// <summary>The <paramref name="count"/> allowed tokens most similar to <paramref name="tokenId"/> (itself excluded), by cosine descending, ties by lower id.</summary>
    public IReadOnlyList<TokenSimilarity> Nearest(int tokenId, int count, Func<int, bool>? allowed = null)
    {
        if (tokenId < 0 || tokenId >= Count) throw new ArgumentOutOfRangeException(nameof(tokenId), tokenId, $"not a row of the {Count}-token embedding matrix");
        using var scope = NewDisposeScope();
        var cosines = _unitRows.matmul(_unitRows[tokenId]).data<float>().ToArray();
        return TopScores.Ranked(cosines, count, id => id != tokenId && (allowed?.Invoke(id) ?? true))
            .Select(pair => new TokenSimilarity(pair.TokenId, pair.Score)).ToArray();
    }
}
