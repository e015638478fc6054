using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Tokens;

/// <summary>
/// FedDTPT's token selection: each group keeps its highest-attention token (ties: the earlier pooled token, i.e.
/// earlier client, then earlier position), and the winners follow the groups' prompt order (mean member position).
/// With a length cap, the groups whose winners have the most attention are kept.
/// </summary>
static class ClusterWinners
{
    public static GlobalTokenPrompt Select(IReadOnlyList<TokenPromptUpload> uploads, PromptClusters clusters, int? maxLength)
    {
        var tokenIds = uploads.SelectMany(upload => upload.Tokens.Select(token => token.TokenId)).ToArray();
        int Winner(int[] members) => members.OrderByDescending(i => clusters.LogAttention[i]).ThenBy(i => i).First();
        var kept = clusters.TopGroups(maxLength, members => clusters.LogAttention[Winner(members)]);
        return new GlobalTokenPrompt(kept.Select(members => tokenIds[Winner(members)]).ToArray(), clusters.Notes, clusters);
    }
}
