using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Aggregation.Tokens;
using FederatedPrompts.Aggregation.Uploads;
using static FederatedPrompts.Aggregation.Tests.Build;

namespace FederatedPrompts.Aggregation.Tests;

public sealed class TokenStrategyTests
{
    /// <summary>
    /// Three clients, unit embeddings at angles. Concept "good" near 0° (10 "great", 11 "good", 12 "fine"), concept
    /// "movie" near 100° (20 "movie", 21 "film", 22 "picture"), 40 "so-so" at 50° and 30 "xyz" at 230°.
    ///   A = [great 0°, movie 100°]   B = [good 3°, film 103°, so-so 50°]   C = [picture 95°, fine −3°, xyz 230°]
    /// Scores w = mean over the other clients of the cosine to that client's closest token, to 5 decimals:
    ///   A: great (cos 3° + cos 3°)/2 = .99863, movie (cos 3° + cos 5°)/2 = .99741
    ///   B: good (cos 3° + cos 6°)/2 = .99658, film (cos 3° + cos 8°)/2 = .99445, so-so (cos 50° + cos 45°)/2 = .67495
    ///   C: picture (cos 5° + cos 8°)/2 = .99323, fine (cos 3° + cos 6°)/2 = .99658, xyz (cos 130° + cos 127°)/2 = −.62230
    /// Cosine k-distances (min_samples 2: nearest other token): great, good, fine, movie, film 1 − cos 3° ≈ .00137,
    /// picture 1 − cos 5° ≈ .0038, so-so 1 − cos 45° ≈ .293, xyz 1 − cos 127° ≈ 1.602. Sorted, D = i/7 − y is
    /// 0, .143, .286, .429, .571, .713, .675, 0: both knees are index 5 (kneed: D falls from .713 to .571, a whole step
    /// of 1/7, two points on), eps ≈ .0038: {great, good, fine} and {movie, film, picture} are clusters; so-so and xyz
    /// are noise, and both are dropped: so-so's .67495 is below B's median .99445, xyz's −.62230 below C's .99323.
    /// Winners by w: great (.99863) and movie (.99741). Order by mean position: (0 + 0 + 1)/3, then (1 + 1 + 0)/3.
    /// </summary>
    static readonly TokenPromptUpload[] Constructed =
    [
        TokenUpload("A", (10, Angle(0)), (20, Angle(100))),
        TokenUpload("B", (11, Angle(3)), (21, Angle(103)), (40, Angle(50))),
        TokenUpload("C", (22, Angle(95)), (12, Angle(-3)), (30, Angle(230))),
    ];

    [Fact]
    public void FedDtpt_gives_the_hand_worked_global_prompt()
    {
        var prompt = TokenAggregationStrategies.Create("feddtpt").Aggregate(Constructed);
        Assert.Equal([10, 20], prompt.TokenIds);
        Assert.Equal(1 - Math.Cos(5 * Math.PI / 180), prompt.Notes.Eps!.Value, 5);
        Assert.Equal((2, 0, 2), (prompt.Notes.Clusters, prompt.Notes.NoiseKept, prompt.Notes.NoiseDropped));
        Assert.Equal([0.99863, 0.99741, 0.99658, 0.99445, 0.67495, 0.99323, 0.99658, -0.62230], prompt.Clusters!.Scores.Select(w => Math.Round(w, 5)));
    }

    /// <summary>Capped at 1: of the winners great (.99863) and movie (.99741), great scores higher.</summary>
    [Fact]
    public void FedDtpt_length_cap_keeps_the_winners_that_score_highest_in_prompt_order()
    {
        var prompt = TokenAggregationStrategies.Create("feddtpt", new TokenAggregationOptions(PromptLength: 1)).Aggregate(Constructed);
        Assert.Equal([10], prompt.TokenIds);
    }

    [Fact]
    public void FedDtpt_is_deterministic_and_independent_of_the_strategy_instance()
    {
        var first = TokenAggregationStrategies.Create("feddtpt").Aggregate(Constructed).TokenIds;
        Assert.Equal(first, new FedDtptTokenStrategy(new TokenAggregationOptions()).Aggregate(Constructed).TokenIds);
    }

    /// <summary>
    /// The attention example of <see cref="AttentionTests"/> with ids: w(A0) = w(B0) = .8, w(A1) = .4, w(B1) = −.4,
    /// w(C0) = .7. Top 3: A0, B0, C0, all at position 0: in client order. Top 2 (L = the longest upload's length): A0
    /// and B0.
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
        Assert.Equal([1, 3], TokenAggregationStrategies.Create("attention").Aggregate(uploads).TokenIds); // L = longest upload, 2
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

    /// <summary>k = 2 on two well-separated concepts: one winner per concept, in position order; <see cref="TokenAggregationOptions.K"/> overrides the length.</summary>
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
        var k1 = TokenAggregationStrategies.Create("kmeans", new TokenAggregationOptions(PromptLength: 2, Seed: 5, K: 1)).Aggregate(uploads);
        Assert.Single(k1.TokenIds);
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
    /// the k-distance curve of the distinct points (copies are left out) has two points, too few for a knee, so eps is 0. Had the two copies of x stayed 2.2e-16 apart, DBSCAN at eps 0 would have left them noise
    /// (attention: both tokens of a client have w = 1, so α = .5 each, not above the median .5: dropped) and the
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
