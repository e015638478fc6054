using FederatedPrompts.Core.Corpora;

namespace FederatedPrompts.Core.Tests.Corpora;

public class DocumentSampleTests
{
    static readonly DocumentSource Numbers = DocumentSource.Of(Enumerable.Range(0, 1000).Select(i => $"doc {i:D4}").ToList());

    [Fact]
    public void Sample_is_seeded_distinct_in_source_order_and_spread_over_the_source()
    {
        var sample = Numbers.Sample(100, seed: 5);
        Assert.Equal(sample, Numbers.Sample(100, seed: 5));
        Assert.NotEqual(sample, Numbers.Sample(100, seed: 6));
        Assert.Equal(100, sample.Distinct().Count());
        Assert.Equal(sample.Order(StringComparer.Ordinal), sample);
        // Uniform, not the first documents: about a tenth falls in each tenth of the source.
        var tenths = sample.GroupBy(d => int.Parse(d[4..]) / 100).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(Enumerable.Range(0, 10), t => Assert.InRange(tenths.GetValueOrDefault(t), 2, 22));
    }

    [Fact]
    public void Sample_of_every_document_is_the_source_and_a_larger_one_is_refused()
    {
        Assert.Equal(Numbers.Read(), Numbers.Sample(1000, seed: 1));
        var error = Assert.Throws<ArgumentException>(() => Numbers.Sample(1001, seed: 1));
        Assert.Contains("1000 documents, fewer than the 1001", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Numbers.Sample(0, seed: 1));
    }
}
