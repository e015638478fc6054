namespace FederatedPrompts.Discrete.Proposal;

/// <summary>Token ids ranked by a score, highest first, ties broken by the lower id so rankings never depend on sort stability or kernel order.</summary>
static class TopScores
{
    public static IEnumerable<(int TokenId, double Score)> Ranked(float[] scores, int count, Func<int, bool> allowed) =>
        Enumerable.Range(0, scores.Length)
            .Where(allowed)
            .OrderByDescending(id => scores[id]).ThenBy(id => id)
            .Take(count)
            .Select(id => (id, (double)scores[id]));
}
