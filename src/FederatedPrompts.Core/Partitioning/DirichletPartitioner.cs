using FederatedPrompts.Core.Tasks;

namespace FederatedPrompts.Core.Partitioning;

/// <summary>
/// Label-skewed non-IID split (Hsu et al., 2019): for each label, client proportions p ~ Dirichlet(α, …, α)
/// (<see cref="GammaSampler"/>), and that label's shuffled examples are cut at the cumulative proportions (rounded
/// down), so small α gives clients dominated by few labels and large α approaches IID. All draws come from one
/// <see cref="Random"/>(seed), labels in sorted order, so a seed fixes the split.
/// Every client gets at least one example (at least as many examples as clients are required): while a client is
/// empty, the client holding the most examples (lowest index on ties) gives it its last-dealt example.
/// </summary>
public static class DirichletPartitioner
{
    public static ClientPartition Split(TaskDataset dataset, int clientCount, double alpha, int seed)
    {
        PartitionChecks.Require(dataset, clientCount);
        if (!(alpha > 0) || double.IsInfinity(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "must be positive and finite");
        var random = new Random(seed);
        var dealt = Enumerable.Range(0, clientCount).Select(_ => new List<LabeledExample>()).ToArray();
        foreach (var label in dataset.Labels)
        {
            var ofLabel = dataset.Examples.Where(example => example.Label == label).ToArray();
            random.Shuffle(ofLabel);
            var proportions = GammaSampler.SymmetricDirichlet(random, alpha, clientCount);
            var cumulative = 0.0;
            var start = 0;
            for (var k = 0; k < clientCount; k++)
            {
                cumulative += proportions[k];
                var end = k == clientCount - 1 ? ofLabel.Length : Math.Min(ofLabel.Length, (int)Math.Floor(cumulative * ofLabel.Length));
                dealt[k].AddRange(ofLabel[start..Math.Max(start, end)]);
                start = Math.Max(start, end);
            }
        }
        FillEmptyClients(dealt);
        var clients = dealt.Select((examples, k) => new TaskDataset(examples, $"{dataset.Source} [Dirichlet α={alpha} client {k}]")).ToArray();
        return new ClientPartition(clients, dataset.Labels);
    }

    static void FillEmptyClients(List<LabeledExample>[] dealt)
    {
        foreach (var empty in dealt.Where(examples => examples.Count == 0))
        {
            var donor = dealt.MaxBy(examples => examples.Count)!;
            empty.Add(donor[^1]);
            donor.RemoveAt(donor.Count - 1);
        }
    }
}
