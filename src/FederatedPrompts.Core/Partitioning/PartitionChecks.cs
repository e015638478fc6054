using FederatedPrompts.Core.Tasks;

namespace FederatedPrompts.Core.Partitioning;

static class PartitionChecks
{
    /// <summary>A client without examples cannot tune anything, so a split into more clients than examples is refused.</summary>
    public static void Require(TaskDataset dataset, int clientCount)
    {
        if (clientCount < 1) throw new ArgumentOutOfRangeException(nameof(clientCount), clientCount, "need at least one client");
        if (dataset.Count < clientCount)
            throw new ArgumentException($"{dataset.Source}: {dataset.Count} examples cannot give each of {clientCount} clients at least one");
    }
}
