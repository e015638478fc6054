namespace FederatedPrompts.Aggregation.Clustering;

/// <summary>
/// What FedDTPT aggregation does with DBSCAN noise: a noise vector is something no other upload came close to. It is
/// kept as a cluster of its own only if its attention is strictly above the median attention of its own client's
/// prompt; otherwise it is dropped. So an idiosyncratic token survives only where it still ranks in the upper half of
/// its own prompt by similarity to the other clients, and a prompt made only of noise loses at least half of it.
/// Only the order within one client matters here, and α is a softmax of the semantic score w within the client, so
/// callers may pass w, log α or α: the decisions are the same.
/// </summary>
public static class NoisePolicy
{
    public static bool Keep(int point, IReadOnlyList<int> client, IReadOnlyList<double> attention)
    {
        var ofClient = Enumerable.Range(0, client.Count).Where(i => client[i] == client[point]).Select(i => attention[i]).Order().ToArray();
        var middle = ofClient.Length / 2;
        var median = ofClient.Length % 2 == 1 ? ofClient[middle] : (ofClient[middle - 1] + ofClient[middle]) / 2;
        return attention[point] > median;
    }
}
