using FederatedPrompts.Core.Tasks;

namespace FederatedPrompts.Core.Tests.Tasks;

public sealed class TaskDatasetTests
{
    static TaskDataset Make(params (string Label, int Count)[] groups) => new(
        groups.SelectMany(group => Enumerable.Range(0, group.Count).Select(i => new LabeledExample($"{group.Label} {i}", group.Label))),
        "test set");

    [Fact]
    public void Labels_are_sorted_and_counted()
    {
        var dataset = new TaskDataset([new("a", "pos"), new("b", "neg"), new("c", "pos"), new("d", "Mid")]);
        Assert.Equal(["Mid", "neg", "pos"], dataset.Labels);
        Assert.Equal(2, dataset.LabelCounts["pos"]);
        Assert.Equal(1, dataset.LabelCounts["neg"]);
        Assert.Equal(4, dataset.Count);
    }

    [Fact]
    public void RequireAtLeastTwoClasses_names_the_source_and_the_only_label()
    {
        var error = Assert.Throws<InvalidDataException>(() => Make(("pos", 3)).RequireAtLeastTwoClasses());
        Assert.Contains("test set", error.Message);
        Assert.Contains("found 1 (pos)", error.Message);
        var two = Make(("pos", 1), ("neg", 1));
        Assert.Same(two, two.RequireAtLeastTwoClasses());
    }

    [Fact]
    public void Sample_is_deterministic_without_replacement_and_seed_dependent()
    {
        var dataset = Make(("a", 50), ("b", 50));
        var first = dataset.Sample(30, seed: 4).Examples;
        Assert.Equal(first, dataset.Sample(30, seed: 4).Examples);
        Assert.NotEqual(first, dataset.Sample(30, seed: 5).Examples);
        Assert.Equal(30, first.Distinct().Count());
        Assert.Throws<ArgumentOutOfRangeException>(() => dataset.Sample(101, seed: 1));
    }

    [Fact]
    public void Split_partitions_every_example_exactly_once()
    {
        var dataset = Make(("a", 20), ("b", 7));
        var (first, second) = dataset.Split(10, seed: 3);
        Assert.Equal(10, first.Count);
        Assert.Equal(17, second.Count);
        Assert.Equal(dataset.Examples.OrderBy(e => e.Text), first.Examples.Concat(second.Examples).OrderBy(e => e.Text));
    }

    [Fact]
    public void Balanced_takes_the_same_number_of_each_label_deterministically()
    {
        var dataset = Make(("a", 40), ("b", 9), ("c", 15));
        var balanced = dataset.Balanced(8, seed: 2);
        Assert.All(balanced.Labels, label => Assert.Equal(8, balanced.LabelCounts[label]));
        Assert.Equal(3, balanced.Labels.Count);
        Assert.Equal(balanced.Examples, dataset.Balanced(8, seed: 2).Examples);
        Assert.Equal(24, balanced.Examples.Distinct().Count());
        // Shuffled together rather than grouped by label.
        Assert.NotEqual(balanced.Examples.OrderBy(e => e.Label, StringComparer.Ordinal), balanced.Examples);
    }

    [Fact]
    public void Balanced_names_the_labels_that_are_too_small()
    {
        var error = Assert.Throws<InvalidDataException>(() => Make(("a", 40), ("b", 9), ("c", 5)).Balanced(10, seed: 1));
        Assert.Contains("'b' has 9, 'c' has 5", error.Message);
        Assert.DoesNotContain("'a'", error.Message);
    }
}
