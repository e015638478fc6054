using FederatedPrompts.Aggregation.Tokens;
using FederatedPrompts.Aggregation.Uploads;
using static FederatedPrompts.Aggregation.Tests.Build;

namespace FederatedPrompts.Aggregation.Tests;

public sealed class TokenStrategyTests
{
    /// <summary>
    /// Three clients, unit embeddings at angles. Concept "good" near 0° (10 "great", 11 "good", 12 "fine"), concept
    /// "movie" near 100° (20 "movie", 21 "film", 22 "picture"), 40 "so-so" at 50° and 30 "xyz" at 230°.
    ///   A = [great 0°, movie 100°]   B = [good 3°, film 103°, so-so 50°]   C = [picture 97°, fine −3°, xyz 230°]
    /// Attention (w = Σ cos to other clients' tokens, softmax per client), to 3 decimals:
    ///   A: w = 1.650, 1.650 → α = .500, .500
    ///   B: w = 1.120, 0.891, 1.569 → α = .297, .237, .466
    ///   C: w = 2.484, 2.094, −3.569 → α = .595, .403, .001
    /// Cosine k-distances (min_samples 2: nearest other token): the six concept tokens have 1 − cos 3° ≈ .0014, so-so
    /// 1 − cos 47° ≈ .318, xyz 1 − cos 127° ≈ 1.602. Sorted [.0014 ×6, .318, 1.602]: D = i/7 − y peaks at index 5
    /// (.714 against .659 at index 6), so eps ≈ .0014 (the largest of the six): {great, good, fine} and
    /// {movie, film, picture} are clusters; so-so and xyz are noise.
    /// Noise: so-so's α .466 is above B's median .297: kept; xyz's .001 is below C's median .403: dropped.
    /// Winners: {great .500, good .297, fine .403} → great; {movie .500, film .237, picture .595} → picture.
    /// Order by mean position: good-cluster (0 + 0 + 1)/3, movie-cluster (1 + 1 + 0)/3, so-so 2.
    /// </summary>
    static readonly TokenPromptUpload[] Constructed =
    [
        TokenUpload("A", (10, Angle(0)), (20, Angle(100))),
        TokenUpload("B", (11, Angle(3)), (21, Angle(103)), (40, Angle(50))),
        TokenUpload("C", (22, Angle(97)), (12, Angle(-3)), (30, Angle(230))),
    ];

    [Fact]
    public void FedDtpt_gives_the_hand_worked_global_prompt()
    {
        var prompt = TokenAggregationStrategies.Create("feddtpt").Aggregate(Constructed);
        Assert.Equal([10, 22, 40], prompt.TokenIds);
        Assert.Equal(1 - Math.Cos(3 * Math.PI / 180), prompt.Notes.Eps!.Value, 4);
        Assert.Equal((2, 1, 1), (prompt.Notes.Clusters, prompt.Notes.NoiseKept, prompt.Notes.NoiseDropped));
    }

    /// <summary>Capped at 2: the winners with most attention are picture (.595) and great (.500); so-so (.466) goes.</summary>
    [Fact]
    public void FedDtpt_length_cap_keeps_the_winners_with_most_attention_in_prompt_order()
    {
        var prompt = TokenAggregationStrategies.Create("feddtpt", new TokenAggregationOptions(PromptLength: 2)).Aggregate(Constructed);
        Assert.Equal([10, 22], prompt.TokenIds);
    }

    [Fact]
    public void FedDtpt_is_deterministic_and_independent_of_the_strategy_instance()
    {
        var first = TokenAggregationStrategies.Create("feddtpt").Aggregate(Constructed).TokenIds;
        Assert.Equal(first, new FedDtptTokenStrategy(new TokenAggregationOptions()).Aggregate(Constructed).TokenIds);
    }

    /// <summary>
    /// The attention example of <see cref="AttentionTests"/> with ids: α(A0) = σ(1.8) ≈ .858, α(A1) ≈ .142,
    /// α(B0) = σ(3.4) ≈ .968, α(B1) ≈ .032, α(C0) = 1. Top 3: C0, B0, A0, all at position 0: ties in client order.
    /// </summary>
    [Fact]
    public void Attention_keeps_the_top_L_tokens_in_position_order()
    {
        TokenPromptUpload[] uploads =
        [
            TokenUpload("A", (1, V(1, 0)), (2, V(0, 1))),
            TokenUpload("B", (3, V(1, 0)), (4, V(0, -1))),
            TokenUpload("C", (5, V(3, 4))),
        ];
        Assert.Equal([1, 3, 5], TokenAggregationStrategies.Create("attention", new TokenAggregationOptions(PromptLength: 3)).Aggregate(uploads).TokenIds);
        Assert.Equal([3, 5], TokenAggregationStrategies.Create("attention").Aggregate(uploads).TokenIds); // L = longest upload, 2: C0 and B0
    }

    /// <summary>
    /// Vocabulary 0 → (1,0), 1 → (0,1), 2 → (−1,0), 3 → (.7071,.7071). A = [(1,0), (0,1)] tuned on 1 example, B = [(0,1),
    /// (0,1), (−1,0)] on 3. Position 0: (1·(1,0) + 3·(0,1))/4 = (.25,.75), cosine-nearest token 1 (an unweighted mean
    /// (.5,.5) would give 3). Position 1: (0,1) → 1. Position 2: B alone, (−1,0) → 2.
    /// </summary>
    [Fact]
    public void FedAvg_maps_the_weighted_positionwise_mean_to_the_nearest_token()
    {
        var vocabulary = new VocabularyEmbeddings([1, 0, 0, 1, -1, 0, 0.7071f, 0.7071f], vocabularySize: 4, dimension: 2);
        TokenPromptUpload[] uploads =
        [
            TokenUpload("A", (7, V(1, 0)), (8, V(0, 1))),
            TokenUpload("B", (8, V(0, 1)), (8, V(0, 1)), (9, V(-1, 0))) with { ExampleCount = 3 },
        ];
        var strategy = TokenAggregationStrategies.Create("fedavg", new TokenAggregationOptions(Vocabulary: vocabulary));
        Assert.Equal([1, 1, 2], strategy.Aggregate(uploads).TokenIds);
        Assert.Equal([3], strategy.Aggregate([TokenUpload("A", (7, V(1, 0))), TokenUpload("B", (8, V(0, 1)))]).TokenIds);
    }

    /// <summary>k = 2 on two well-separated concepts: one winner per concept (great .5 vs good; picture .595), in position order.</summary>
    [Fact]
    public void KMeans_picks_one_winner_per_cluster_deterministically()
    {
        TokenPromptUpload[] uploads = [Constructed[0], TokenUpload("B", (11, Angle(3)), (21, Angle(103))), TokenUpload("C", (22, Angle(97)), (12, Angle(-3)))];
        var strategy = TokenAggregationStrategies.Create("kmeans", new TokenAggregationOptions(PromptLength: 2, Seed: 5));
        var prompt = strategy.Aggregate(uploads);
        Assert.Equal(2, prompt.TokenIds.Count);
        Assert.Contains(prompt.TokenIds[0], new[] { 10, 11, 12 });
        Assert.Contains(prompt.TokenIds[1], new[] { 20, 21, 22 });
        Assert.Equal(prompt.TokenIds, strategy.Aggregate(uploads).TokenIds);
    }

    [Fact]
    public void Strategies_are_selected_by_name()
    {
        var vocabulary = new VocabularyEmbeddings([1, 0], 1, 2);
        foreach (var name in TokenAggregationStrategies.Names)
            Assert.Equal(name, TokenAggregationStrategies.Create(name.ToUpperInvariant(), new TokenAggregationOptions(Vocabulary: vocabulary)).Name);
        var error = Assert.Throws<ArgumentException>(() => TokenAggregationStrategies.Create("median"));
        Assert.Contains("'median' (known: feddtpt, fedavg, attention, kmeans)", error.Message);
        Assert.Contains("vocabulary", Assert.Throws<ArgumentException>(() => TokenAggregationStrategies.Create("fedavg")).Message);
    }

    /// <summary>
    /// Two clients upload the same prompt [x, y], x = (0.1, 0.1), y = (0.1, 0.3) (float32). In double, 1 − x·x/(‖x‖‖x‖) is
    /// 2⁻⁵² ≈ 2.2e-16, not 0 (for y it rounds to −2.2e-16, clamped to 0); x to y is 1 − cos 26.57° ≈ .106.
    /// k-distances (min_samples 2: nearest other point) are then [0, 0, 2.2e-16, 2.2e-16], flat within 1e-12, so no knee and
    /// eps = the lower median 0. Had the two copies of x stayed 2.2e-16 apart, DBSCAN at eps 0 would have left them noise
    /// (attention: both tokens of a client have w = 1 + .894, so α = .5 each, not above the median .5: dropped) and the
    /// global prompt would have been [y]. Identical vectors are at distance exactly 0, so {x, x} and {y, y} are clusters
    /// and the global prompt is the common prompt [x, y].
    /// </summary>
    [Fact]
    public void Clients_uploading_the_same_prompt_get_it_back_even_at_eps_zero()
    {
        float[] x = [0.1f, 0.1f], y = [0.1f, 0.3f];
        Assert.NotEqual(0.0, 1 - Geometry.VectorMath.CosineSimilarity(x, x));   // the rounding this guards against
        var prompt = TokenAggregationStrategies.Create("feddtpt").Aggregate([TokenUpload("A", (1, x), (2, y)), TokenUpload("B", (1, x), (2, y))]);
        Assert.Equal([1, 2], prompt.TokenIds);
        Assert.Equal(0.0, prompt.Notes.Eps);
        Assert.Equal((2, 0, 0), (prompt.Notes.Clusters, prompt.Notes.NoiseKept, prompt.Notes.NoiseDropped));
        Assert.Equal(0.0, Geometry.VectorMath.Distance(x, x, Geometry.DistanceMetric.Cosine));
    }
}
