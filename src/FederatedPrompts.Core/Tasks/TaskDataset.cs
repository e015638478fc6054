namespace FederatedPrompts.Core.Tasks;

/// <summary>
/// The examples of one task split, with its label set. <see cref="Labels"/> is sorted (ordinal), not in order of
/// first appearance, so the train and test files of a task always agree on label indices.
/// </summary>
public sealed class TaskDataset
{
    public TaskDataset(IEnumerable<LabeledExample> examples, string source = "(in memory)")
    {
        Examples = examples.ToArray();
        Source = source;
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var example in Examples)
            counts[example.Label] = counts.GetValueOrDefault(example.Label) + 1;
        LabelCounts = counts;
        Labels = counts.Keys.ToArray();
    }

    /// <summary>Where the examples came from (a file path, or a description), for error messages.</summary>
    public string Source { get; }
    public IReadOnlyList<LabeledExample> Examples { get; }
    public int Count => Examples.Count;
    public IReadOnlyList<string> Labels { get; }
    public IReadOnlyDictionary<string, int> LabelCounts { get; }

    /// <summary>For callers that train: a classifier over fewer than two labels learns nothing.</summary>
    public TaskDataset RequireAtLeastTwoClasses()
    {
        if (Labels.Count < 2)
            throw new InvalidDataException(
                $"{Source}: need at least two labels to train, found {Labels.Count} ({string.Join(", ", Labels)})");
        return this;
    }

    /// <summary><paramref name="count"/> examples drawn without replacement, in shuffled order; same seed, same sample.</summary>
    public TaskDataset Sample(int count, int seed) => Split(count, seed).First;

    /// <summary>A seeded shuffle cut after <paramref name="firstCount"/> examples: e.g. train and validation.</summary>
    public (TaskDataset First, TaskDataset Second) Split(int firstCount, int seed)
    {
        if (firstCount < 0 || firstCount > Count)
            throw new ArgumentOutOfRangeException(nameof(firstCount), $"{Source}: asked for {firstCount} of {Count} examples");
        var shuffled = Examples.ToArray();
        new Random(seed).Shuffle(shuffled);
        return (new TaskDataset(shuffled[..firstCount], Source), new TaskDataset(shuffled[firstCount..], Source));
    }

    /// <summary><paramref name="perLabel"/> seeded-random examples of every label, shuffled together.</summary>
    public TaskDataset Balanced(int perLabel, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(perLabel);
        var tooFew = Labels.Where(label => LabelCounts[label] < perLabel).ToArray();
        if (tooFew.Length > 0)
            throw new InvalidDataException(
                $"{Source}: {perLabel} examples per label requested, but " +
                string.Join(", ", tooFew.Select(label => $"'{label}' has {LabelCounts[label]}")));
        var random = new Random(seed);
        var chosen = new List<LabeledExample>();
        foreach (var label in Labels)
        {
            var ofLabel = Examples.Where(example => example.Label == label).ToArray();
            random.Shuffle(ofLabel);
            chosen.AddRange(ofLabel.Take(perLabel));
        }
        var result = chosen.ToArray();
        random.Shuffle(result);
        return new TaskDataset(result, Source);
    }
}
