using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;

namespace FederatedPrompts.Modeling.Tests;

/// <summary>
/// The teacher and student committed under bench/teacher/ (how they were made: its README) load as ordinary Hugging Face
/// folders and are the trained models, not random or truncated weights: they find a movie review far likelier than the
/// same words shuffled.
/// </summary>
public class CommittedModelsTests
{
    static readonly string TeacherDir = Repository.Path("bench", "teacher", "imdb-teacher");
    static readonly string StudentDir = Repository.Path("bench", "teacher", "imdb-student");

    const string Review = "This movie was one of the best films I have ever seen. The acting was great and the story kept me watching until the end.";

    static double Perplexity(CausalLM model, ITextTokenizer tokenizer, string text)
    {
        var ids = tokenizer.Encode(text).ToArray();
        return Math.Exp(-LanguageModelScoring.TokenLogProbs(model, ids).Average());
    }

    static string Shuffled(string text)
    {
        var words = text.Split(' ');
        new Random(1).Shuffle(words);
        return string.Join(' ', words);
    }

    [Theory]
    [InlineData("imdb-teacher", 8, 8.0)]    // measured 4.17
    [InlineData("imdb-student", 2, 12.0)]   // measured 5.66
    public void Committed_model_loads_as_stored_in_bf16_and_knows_movie_reviews(string folder, int layers, double maxPerplexity)
    {
        string dir = Repository.Path("bench", "teacher", folder);
        Assert.All(SafeTensors.ReadCheckpointHeaders(dir).Values, t => Assert.Equal("BF16", t.Entry.DType));
        using var model = HfCheckpoint.Load(dir);
        Assert.Equal((layers, 384, 8192, 128), (model.Config.NumLayers, model.Config.HiddenSize, model.Config.VocabSize, model.Config.MaxPositions));
        var tokenizer = TokenizerLoader.FromFolder(dir);
        double review = Perplexity(model, tokenizer, Review), shuffled = Perplexity(model, tokenizer, Shuffled(Review));
        Assert.True(review < maxPerplexity, $"perplexity of a review {review:F2}");
        Assert.True(shuffled > 50 * review, $"shuffled {shuffled:F1} vs in order {review:F2}");
    }

    [Fact]
    public void Teacher_and_student_share_the_tokenizer_and_fit_the_50_MB_budget_together()
    {
        Assert.Equal(TokenizerLoader.FromFolder(TeacherDir).Encode(Review), TokenizerLoader.FromFolder(StudentDir).Encode(Review));
        long bytes = new[] { TeacherDir, StudentDir }.SelectMany(Directory.GetFiles).Sum(f => new FileInfo(f).Length);
        Assert.True(bytes <= 50_000_000, $"{bytes:N0} bytes");
    }
}
