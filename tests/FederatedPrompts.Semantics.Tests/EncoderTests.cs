namespace FederatedPrompts.Semantics.Tests;

public sealed class EncoderTests
{
    static double Cosine(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum() / Math.Sqrt(a.Sum(x => (double)x * x) * b.Sum(x => (double)x * x));

    /// <summary>
    /// all-MiniLM-L6-v2 gives unit-length 384-dimensional vectors, the same for the same text, and ranks meaning:
    /// measured cosines " great"–" excellent" .82, " great"–" terrible" .47, " terrible"–" awful" .85.
    /// </summary>
    [Fact]
    public void MiniLm_vectors_are_unit_length_deterministic_and_rank_synonyms_first()
    {
        var vectors = MiniLmEncoder.Shared.Encode([" great", " excellent", " terrible", " awful", " great"]);
        Assert.All(vectors, v => Assert.Equal(MiniLmEncoder.Dimension, v.Length));
        Assert.All(vectors, v => Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 4));
        Assert.Equal(vectors[0], vectors[4]);
        Assert.InRange(Cosine(vectors[0], vectors[1]), 0.75, 0.9);
        Assert.InRange(Cosine(vectors[0], vectors[2]), 0.35, 0.6);
        Assert.InRange(Cosine(vectors[2], vectors[3]), 0.75, 0.95);
    }

    [Fact]
    public void Token_embeddings_follow_the_tokenizers_text_and_refuse_ids_outside_the_vocabulary()
    {
        var positive = new EncodedTokenEmbeddings("tokenizer-a", 2, id => id == 0 ? " great" : " movie");
        var negative = new EncodedTokenEmbeddings("tokenizer-b", 2, id => id == 0 ? " terrible" : " movie");
        var again = new EncodedTokenEmbeddings("tokenizer-a", 2, _ => throw new InvalidOperationException("cached: never decoded again"));
        var greatAndMovie = positive.Embed([0, 1]);
        Assert.NotEqual(greatAndMovie[0], negative.Embed([0])[0]);          // same id, other tokenizer: its own text
        Assert.Same(greatAndMovie[0], again.Embed([0])[0]);               // same tokenizer identity: the cached vector
        Assert.Equal(("minilm", 384, 2), (positive.Name, positive.Dimension, positive.VocabularySize));
        Assert.Throws<ArgumentOutOfRangeException>(() => positive.Embed([2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => positive.Embed([-1]));
    }
}
