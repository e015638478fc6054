using FederatedPrompts.Aggregation.Attention;
using static FederatedPrompts.Aggregation.Tests.Build;

namespace FederatedPrompts.Aggregation.Tests;

public sealed class AttentionTests
{
    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>
    /// A = [(1,0), (0,1)], B = [(1,0), (0,−1)], C = [(3,4)]. Cosines: (1,0)·(3,4) → 0.6, (0,1)·(3,4) → 0.8, (0,−1)·(3,4) → −0.8.
    /// w(A0) = cos(A0,B0) + cos(A0,B1) + cos(A0,C0) = 1 + 0 + 0.6 = 1.6;  w(A1) = 0 − 1 + 0.8 = −0.2
    /// w(B0) = 1 + 0 + 0.6 = 1.6;  w(B1) = 0 − 1 − 0.8 = −1.8;  w(C0) = 0.6 + 0.8 + 0.6 − 0.8 = 1.2
    /// Softmax of two scores is a sigmoid of their difference: α(A0) = σ(1.8), α(B0) = σ(3.4); α(C0) = 1 (alone).
    /// </summary>
    [Fact]
    public void Three_clients_in_2d_match_the_hand_computation()
    {
        var pooled = Pool(SoftUpload("A", V(1, 0), V(0, 1)), SoftUpload("B", V(1, 0), V(0, -1)), SoftUpload("C", V(3, 4)));
        var scores = SemanticAttention.Scores(pooled);
        Assert.Equal([1.6, -0.2, 1.6, -1.8, 1.2], scores.Select(s => Math.Round(s, 12)));
        var alpha = SemanticAttention.Weights(pooled);
        double[] expected = [Sigmoid(1.8), Sigmoid(-1.8), Sigmoid(3.4), Sigmoid(-3.4), 1];
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], alpha[i], 12);
    }

    /// <summary>Two clients: w(A0) = cos((1,0),(1,1)) = 1/√2, w(A1) = cos((0,1),(1,1)) = 1/√2: a tie, so α = ½ each.</summary>
    [Fact]
    public void Two_clients_tie_gives_equal_attention_and_zero_vectors_resemble_nothing()
    {
        var pooled = Pool(SoftUpload("A", V(1, 0), V(0, 1), V(0, 0)), SoftUpload("B", V(1, 1)));
        Assert.Equal([1 / Math.Sqrt(2), 1 / Math.Sqrt(2), 0, Math.Sqrt(2)], SemanticAttention.Scores(pooled).Select(s => Math.Round(s, 6)), new RoundedComparer());
        var alpha = SemanticAttention.Weights(pooled);
        Assert.Equal(alpha[0], alpha[1], 12);
        Assert.Equal(1.0, alpha[0] + alpha[1] + alpha[2], 12);
        Assert.Equal(1.0, alpha[3], 12);
    }

    [Fact]
    public void A_single_client_gets_uniform_attention()
    {
        var alpha = SemanticAttention.Weights(Pool(SoftUpload("A", V(1, 0), V(0, 1), V(5, 5), V(-1, 2))));
        Assert.All(alpha, a => Assert.Equal(0.25, a, 12));
    }

    sealed class RoundedComparer : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) < 1e-6;
        public int GetHashCode(double value) => 0;
    }
}
