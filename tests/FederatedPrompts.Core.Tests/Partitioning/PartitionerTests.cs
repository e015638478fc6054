using FederatedPrompts.Core.Partitioning;
using FederatedPrompts.Core.Tasks;

namespace FederatedPrompts.Core.Tests.Partitioning;

public sealed class PartitionerTests
{
    /// <summary>Examples with unique texts, so "assigned exactly once" can be checked by text.</summary>
    static TaskDataset Make(params (string Label, int Count)[] groups) => new(
        groups.SelectMany(group => Enumerable.Range(0, group.Count).Select(i => new LabeledExample($"{group.Label} {i}", group.Label))),
        "test set");

    static readonly TaskDataset FourLabels = Make(("a", 250), ("b", 250), ("c", 250), ("d", 250));

    static void AssertEveryExampleOnce(TaskDataset dataset, ClientPartition partition)
    {
        var assigned = partition.Clients.SelectMany(client => client.Examples.Select(example => example.Text)).ToArray();
        Assert.Equal(dataset.Count, assigned.Length);
        Assert.Equal(dataset.Examples.Select(example => example.Text).Order(), assigned.Order());
        Assert.All(partition.Clients, client => Assert.True(client.Count > 0));
    }

    static string[][] Texts(ClientPartition partition) =>
        partition.Clients.Select(client => client.Examples.Select(example => example.Text).ToArray()).ToArray();

    [Fact]
    public void Iid_assigns_every_example_once_in_near_equal_sizes()
    {
        var partition = IidPartitioner.Split(FourLabels, clientCount: 7, seed: 3);
        AssertEveryExampleOnce(FourLabels, partition);
        Assert.All(partition.Clients, client => Assert.InRange(client.Count, 142, 143));
    }

    [Fact]
    public void Iid_is_reproducible_under_a_seed_and_differs_across_seeds()
    {
        Assert.Equal(Texts(IidPartitioner.Split(FourLabels, 5, seed: 1)), Texts(IidPartitioner.Split(FourLabels, 5, seed: 1)));
        Assert.NotEqual(Texts(IidPartitioner.Split(FourLabels, 5, seed: 1)), Texts(IidPartitioner.Split(FourLabels, 5, seed: 2)));
    }

    [Theory]
    [InlineData(0.05)]
    [InlineData(1.0)]
    [InlineData(1000.0)]
    public void Dirichlet_assigns_every_example_once_and_leaves_no_client_empty(double alpha)
    {
        var partition = DirichletPartitioner.Split(FourLabels, clientCount: 10, alpha, seed: 7);
        AssertEveryExampleOnce(FourLabels, partition);
    }

    [Fact]
    public void Dirichlet_is_reproducible_under_a_seed_and_differs_across_seeds()
    {
        Assert.Equal(Texts(DirichletPartitioner.Split(FourLabels, 6, 0.5, seed: 4)), Texts(DirichletPartitioner.Split(FourLabels, 6, 0.5, seed: 4)));
        Assert.NotEqual(Texts(DirichletPartitioner.Split(FourLabels, 6, 0.5, seed: 4)), Texts(DirichletPartitioner.Split(FourLabels, 6, 0.5, seed: 5)));
    }

    [Fact]
    public void Dirichlet_small_alpha_gives_clients_dominated_by_one_label()
    {
        var counts = DirichletPartitioner.Split(FourLabels, clientCount: 10, alpha: 0.05, seed: 11).LabelCounts;
        var dominated = counts.Count(client => client.Max() >= 0.9 * client.Sum());
        Assert.True(dominated >= 8, $"only {dominated} of 10 clients have ≥ 90% of one label");
    }

    [Fact]
    public void Dirichlet_large_alpha_is_near_uniform()
    {
        var counts = DirichletPartitioner.Split(FourLabels, clientCount: 5, alpha: 1000, seed: 11).LabelCounts;
        foreach (var client in counts)
            Assert.All(client, count => Assert.InRange((double)count / client.Sum(), 0.2, 0.3)); // uniform is 0.25
    }

    [Fact]
    public void Fewer_examples_than_clients_is_refused_with_the_source()
    {
        var tiny = Make(("a", 2), ("b", 1));
        Assert.Contains("test set: 3 examples cannot give each of 4 clients", Assert.Throws<ArgumentException>(() => IidPartitioner.Split(tiny, 4, 0)).Message);
        Assert.Throws<ArgumentException>(() => DirichletPartitioner.Split(tiny, 4, 1.0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => DirichletPartitioner.Split(tiny, 2, 0, 0));
        AssertEveryExampleOnce(tiny, DirichletPartitioner.Split(tiny, 3, 0.01, 0)); // exactly one each
    }

    [Fact]
    public void Summary_prints_per_client_label_counts()
    {
        var dataset = Make(("neg", 1), ("pos", 3));
        var partition = new ClientPartition([Make(("pos", 2)), Make(("neg", 1), ("pos", 1))], dataset.Labels);
        Assert.Equal([[0, 2], [1, 1]], partition.LabelCounts);
        Assert.Equal("client  neg  pos  total\n     0    0    2      2\n     1    1    1      2\n", partition.Summary().Replace("\r\n", "\n"));
    }

    [Fact]
    public void Gamma_draws_have_the_right_mean_and_variance()
    {
        foreach (var shape in new[] { 0.3, 2.5 })
        {
            var random = new Random(5);
            var draws = Enumerable.Range(0, 20000).Select(_ => GammaSampler.Sample(random, shape)).ToArray();
            var mean = draws.Average();
            var variance = draws.Sum(x => (x - mean) * (x - mean)) / draws.Length;
            Assert.InRange(mean, shape * 0.95, shape * 1.05); // Gamma(k, 1): mean k, variance k
            Assert.InRange(variance, shape * 0.9, shape * 1.1);
        }
    }

    [Fact]
    public void Dirichlet_draws_are_proportions_even_when_alpha_underflows()
    {
        var random = new Random(2);
        foreach (var alpha in new[] { 1e-4, 0.5, 50 })
        {
            var p = GammaSampler.SymmetricDirichlet(random, alpha, 6);
            Assert.Equal(1.0, p.Sum(), 9);
            Assert.All(p, x => Assert.InRange(x, 0, 1));
        }
    }
}
