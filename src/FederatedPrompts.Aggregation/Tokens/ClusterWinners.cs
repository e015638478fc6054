using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Tokens;

/// <summary>
/// FedDTPT's token selection: each group keeps its token of highest semantic score w (<see cref="PromptClusters.Winner"/>:
/// w is comparable between clients, α is not), and the winners follow the groups' prompt order (mean member position).
/// With a length cap, the groups whose winners score highest are kept.
/// </summary>
static class ClusterWinners
{
    public static GlobalTokenPrompt Select(IReadOnlyList<TokenPromptUpload> uploads, PromptClusters clusters, int? maxLength)
    {
        var tokenIds = uploads.SelectMany(upload => upload.Tokens.Select(token => token.TokenId)).ToArray();
        var kept = clusters.TopGroups(maxLength, members => clusters.Scores[clusters.Winner(members)]);
        return new GlobalTokenPrompt(kept.Select(members => tokenIds[clusters.Winner(members)]).ToArray(), clusters.Notes, clusters);
    }
}
