using FederatedPrompts.Aggregation.Attention;
using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Clustering;

/// <summary>
/// Groups of pooled vectors (indices into <see cref="PooledVectors"/>) that the global prompt turns into one element
/// each, with the semantic score and attention of every pooled vector (see <see cref="SemanticAttention"/>), in
/// global-prompt order: by the mean prompt position of each group's members, ties by the group's first member (client
/// order, then position).
/// </summary>
public sealed class PromptClusters
{
    public PromptClusters(PooledVectors pooled, IReadOnlyList<double> scores, IEnumerable<int[]> groups, AggregationNotes notes)
    {
        Pooled = pooled;
        Scores = scores;
        LogAttention = SemanticAttention.LogWeights(pooled, scores);
        Attention = LogAttention.Select(Math.Exp).ToArray();
        Groups = groups
            .Select(members => (Members: members, MeanPosition: members.Average(i => pooled.Position[i]), First: members.Min()))
            .OrderBy(group => group.MeanPosition).ThenBy(group => group.First)
            .Select(group => group.Members)
            .ToArray();
        Notes = notes;
    }

    /// <summary>The vectors the groups index into, with the client and position of each.</summary>
    public PooledVectors Pooled { get; }
    /// <summary>Semantic score w per pooled vector (mean similarity to the other clients' vectors): comparable between clients, so winners are chosen by it.</summary>
    public IReadOnlyList<double> Scores { get; }
    /// <summary>log α per pooled vector (α is normalised within each client's prompt): soft centroids and cluster mass weight by it.</summary>
    public IReadOnlyList<double> LogAttention { get; }
    /// <summary>α per pooled vector.</summary>
    public IReadOnlyList<double> Attention { get; }

    /// <summary>The member with the highest score w (ties: the earlier pooled vector, i.e. earlier client, then position).</summary>
    public int Winner(int[] members) => members.OrderByDescending(i => Scores[i]).ThenBy(i => i).First();
    public IReadOnlyList<int[]> Groups { get; }
    public AggregationNotes Notes { get; }

    /// <summary>Group labels (as DBSCAN or k-means give them; <see cref="Dbscan.Noise"/> is left out) → member lists, by label.</summary>
    public static IEnumerable<int[]> GroupsOf(IReadOnlyList<int> labels) => Enumerable.Range(0, labels.Count)
        .Where(i => labels[i] != Dbscan.Noise)
        .GroupBy(i => labels[i])
        .OrderBy(group => group.Key)
        .Select(group => group.ToArray());

    /// <summary>
    /// The <paramref name="maxCount"/> groups with the highest <paramref name="score"/> (ties: earlier in prompt order),
    /// kept in prompt order; all of them when <paramref name="maxCount"/> is null or not smaller than the count.
    /// </summary>
    public IReadOnlyList<int[]> TopGroups(int? maxCount, Func<int[], double> score)
    {
        if (maxCount is not { } cap || cap >= Groups.Count) return Groups;
        var kept = Enumerable.Range(0, Groups.Count).OrderByDescending(g => score(Groups[g])).ThenBy(g => g).Take(cap).Order();
        return kept.Select(g => Groups[g]).ToArray();
    }
}
