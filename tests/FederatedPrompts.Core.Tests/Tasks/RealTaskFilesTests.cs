using FederatedPrompts.Core.Tasks;
using FederatedPrompts.TestSupport;

namespace FederatedPrompts.Core.Tests.Tasks;

/// <summary>The shared copies of the real tasks load with the counts and labels documented in shared/README.md.</summary>
public sealed class RealTaskFilesTests
{
    [SharedDataTheory]
    [InlineData("sst2", "train", 6920)]
    [InlineData("sst2", "dev", 872)]
    [InlineData("sst2", "test", 1821)]
    [InlineData("trec", "train", 5452)]
    [InlineData("trec", "test", 500)]
    [InlineData("spam", "train", 4836)]
    [InlineData("spam", "test", 1210)]
    [InlineData("imdb", "train", 25000)]
    [InlineData("imdb", "test", 25000)]
    public void Real_task_split_loads_with_documented_size_and_preset_labels(string task, string split, int count)
    {
        var dataset = TaskFile.Load(SharedData.Under("tasks", task, $"{split}.jsonl")).RequireAtLeastTwoClasses();
        Assert.Equal(count, dataset.Count);
        var preset = TaskPreset.Get(task);
        Assert.Equal(preset.Verbalizer.Labels.Order(StringComparer.Ordinal), dataset.Labels);
        preset.Verbalizer.RequireCovers(dataset.Labels);
        Assert.Equal(count, dataset.LabelCounts.Values.Sum());
    }

    [SharedDataFact]
    public void Sst2_train_label_counts()
    {
        var dataset = TaskFile.Load(SharedData.Under("tasks", "sst2", "train.jsonl"));
        Assert.Equal(3610, dataset.LabelCounts["positive"]);
        Assert.Equal(3310, dataset.LabelCounts["negative"]);
    }

    [SharedDataFact]
    public void Trec_test_has_all_six_coarse_classes_even_the_rare_one()
    {
        var dataset = TaskFile.Load(SharedData.Under("tasks", "trec", "test.jsonl"));
        Assert.Equal(["abbreviation", "description", "entity", "human", "location", "number"], dataset.Labels);
        Assert.Equal(9, dataset.LabelCounts["abbreviation"]);
    }
}
