using FederatedPrompts.Core.Tasks;

namespace FederatedPrompts.Core.Partitioning;

/// <summary>
/// IID split: a seeded shuffle dealt round-robin, so client sizes differ by at most one and every client's label mix
/// follows the whole dataset's up to sampling noise. Needs at least as many examples as clients, so none is empty.
/// </summary>
public static class IidPartitioner
{
    public static ClientPartition Split(TaskDataset dataset, int clientCount, int seed)
    {
        PartitionChecks.Require(dataset, clientCount);
        var shuffled = dataset.Examples.ToArray();
        new Random(seed).Shuffle(shuffled);
        var clients = Enumerable.Range(0, clientCount)
            .Select(k => new TaskDataset(shuffled.Where((_, i) => i % clientCount == k), $"{dataset.Source} [IID client {k}]"))
            .ToArray();
        return new ClientPartition(clients, dataset.Labels);
    }
}
