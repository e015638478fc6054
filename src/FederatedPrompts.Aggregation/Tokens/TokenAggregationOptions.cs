using FederatedPrompts.Aggregation.Geometry;

namespace FederatedPrompts.Aggregation.Tokens;

/// <summary>
/// Settings of the token strategies; each reads only those it needs.
/// <para><see cref="MinSamples"/> and <see cref="Metric"/>: DBSCAN and its k-distance curve ("feddtpt"). The default
/// min_samples 2 means a token is core when one other token lies within eps: with the handful of clients a round
/// has, a concept shared by two clients is already consensus.</para>
/// <para><see cref="PromptLength"/>: "feddtpt": an upper bound (the clusters with the most attention on their winner
/// are kept), none by default; "attention": L, the number of tokens kept; "kmeans": k. Default for the last two: the
/// longest upload's length. "fedavg" always gives the longest upload's length.</para>
/// <para><see cref="Seed"/>: k-means++ seeding. <see cref="Vocabulary"/>: required by "fedavg", which maps averaged
/// embeddings back to tokens.</para>
/// </summary>
public sealed record TokenAggregationOptions(
    int MinSamples = 2,
    DistanceMetric Metric = DistanceMetric.Cosine,
    int? PromptLength = null,
    int Seed = 0,
    VocabularyEmbeddings? Vocabulary = null)
{
    public int MinSamples { get; init => field = OptionChecks.AtLeastOne(value, nameof(MinSamples)); } = OptionChecks.AtLeastOne(MinSamples, nameof(MinSamples));
    public int? PromptLength { get; init => field = OptionChecks.AtLeastOne(value, nameof(PromptLength)); } = OptionChecks.AtLeastOne(PromptLength, nameof(PromptLength));
}
