using FederatedPrompts.Core.Tasks;

namespace FederatedPrompts.Discrete.Search;

/// <summary>
/// The examples a search iteration scores prompts on: a seeded sample of the client's local examples followed by a
/// balanced public set drawn once, so a client whose labels are skewed still sees every label.
/// </summary>
sealed class EvaluationBatches
{
    readonly IReadOnlyList<LabeledExample> _local;
    readonly IReadOnlyList<LabeledExample> _public;
    readonly int _localSize;

    public EvaluationBatches(TaskDataset local, TaskDataset publicSet, DiscreteSearchOptions options)
    {
        if (local.Count == 0) throw new ArgumentException($"{local.Source}: no local examples to search with");
        _local = local.Examples;
        _public = options.PublicPerLabel == 0 ? [] : publicSet.Balanced(options.PublicPerLabel, options.Seed).Examples;
        _localSize = Math.Min(options.LocalBatchSize, local.Count);
    }

    /// <summary>True when every batch is the whole local set plus the public set, in the same order.</summary>
    public bool Fixed => _localSize == _local.Count;

    public IReadOnlyList<LabeledExample> Next(Random random)
    {
        if (Fixed) return [.. _local, .. _public];
        var order = Enumerable.Range(0, _local.Count).ToArray();
        random.Shuffle(order);
        return [.. order.Take(_localSize).Select(i => _local[i]), .. _public];
    }
}
