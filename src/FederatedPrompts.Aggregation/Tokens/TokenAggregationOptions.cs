using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Geometry;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Aggregation.Tokens;

/// <summary>
/// Settings of the token strategies; each reads only those it needs.
/// <para><see cref="MinSamples"/>, <see cref="Metric"/> and <see cref="Eps"/>: DBSCAN, its k-distance curve and how
/// eps is set ("feddtpt"). The default min_samples 2 means a token is core when one other token lies within eps: with
/// the handful of clients a round has, a concept shared by two clients is already consensus.</para>
/// <para><see cref="PromptLength"/>: "feddtpt": an upper bound (the clusters whose winners score highest are kept),
/// none by default; "attention": L, the number of tokens kept; "kmeans": k unless <see cref="K"/> is set. Default for
/// the last two: the longest upload's length. "fedavg" always gives the longest upload's length.</para>
/// <para><see cref="K"/>: k of "kmeans" (the paper's Algorithm 2 clusters with a fixed number of clusters).
/// <see cref="Seed"/>: k-means++ seeding. <see cref="Vocabulary"/>: required by "fedavg", which maps averaged
/// embeddings back to tokens; it must be the table the uploads were embedded with.</para>
/// </summary>
public sealed record TokenAggregationOptions(
    int MinSamples = 2,
    DistanceMetric Metric = DistanceMetric.Cosine,
    int? PromptLength = null,
    int Seed = 0,
    ITokenEmbeddings? Vocabulary = null,
    EpsRule? Eps = null,
    int? K = null)
{
    public EpsRule Eps { get; init => field = value ?? new EpsRule(); } = Eps ?? new EpsRule();
    public int? K { get; init => field = OptionChecks.AtLeastOne(value, nameof(K)); } = OptionChecks.AtLeastOne(K, nameof(K));
    public int MinSamples { get; init => field = OptionChecks.AtLeastOne(value, nameof(MinSamples)); } = OptionChecks.AtLeastOne(MinSamples, nameof(MinSamples));
    public int? PromptLength { get; init => field = OptionChecks.AtLeastOne(value, nameof(PromptLength)); } = OptionChecks.AtLeastOne(PromptLength, nameof(PromptLength));
}
