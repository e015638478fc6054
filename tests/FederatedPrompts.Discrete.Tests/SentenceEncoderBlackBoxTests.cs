using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Discrete.BlackBox;

namespace FederatedPrompts.Discrete.Tests;

/// <summary>The "minilm" black box: all-MiniLM-L6-v2 answering by similarity to the sst2 preset's label descriptions.</summary>
public class SentenceEncoderBlackBoxTests
{
    static readonly TinyModel Tiny = new();
    static readonly string[] Labels = ["negative", "positive"];

    static readonly (string Text, string Label)[] Reviews =
    [
        ("a wonderful, moving film that I loved", "positive"), ("the best movie of the year, a joy to watch", "positive"),
        ("brilliant acting and a beautiful story", "positive"), ("a dull, boring mess", "negative"),
        ("the worst film I have ever seen", "negative"), ("awful, tedious and far too long", "negative"),
    ];

    static IBlackBoxClassifier MiniLm() => BlackBoxes.Create(BlackBoxes.MiniLm, Tiny.Classifier, Tiny.Tokenizer, TaskPreset.Sst2.Descriptions);

    [Fact]
    public void Clear_reviews_get_their_sentiment_with_and_without_a_prompt()
    {
        var box = MiniLm();
        var texts = Reviews.Select(r => r.Text).ToArray();
        Assert.Equal(Reviews.Select(r => r.Label), box.Classify([], texts));
        Assert.Equal(Reviews.Select(r => r.Label), box.Classify(Tiny.Encode(" A movie review:"), texts));
        var result = box.Evaluate(Labels, Reviews, []);
        Assert.Equal((1.0, 6, 1.0), (result.Accuracy, result.Count, result.MacroAccuracy));
    }

    /// <summary>Both black boxes answer queries with different prompts in one pass as they answer each prompt's queries alone.</summary>
    [Fact]
    public void Queries_with_their_own_prompts_in_one_pass_get_the_answers_they_get_alone()
    {
        IReadOnlyList<int>[] prompts = [Tiny.Encode(" It was great fun."), Tiny.Encode(" It was terrible."), []];
        var queries = TinyModel.Texts.Select((text, i) => new BlackBoxQuery(prompts[i % prompts.Length], text)).ToList();
        foreach (var box in new[] { BlackBoxes.Create(BlackBoxes.Lm, Tiny.Classifier, Tiny.Tokenizer, TaskPreset.Sst2.Descriptions),
                                    BlackBoxes.Create(BlackBoxes.MiniLm, Tiny.Classifier, Tiny.Tokenizer, TaskPreset.Sst2.Descriptions) })
            Assert.Equal(queries.Select(q => box.Classify(q.PromptTokenIds, [q.Text])[0]), box.Classify(queries));
    }

    [Fact]
    public void The_prompt_is_read_as_the_tokenizers_text_before_the_input()
    {
        // An input that says nothing either way takes the sentiment of the prompt before it, decoded from its token ids.
        var box = MiniLm();
        string[] neutral = ["the film", "a movie about a family"];
        Assert.Equal(["positive", "positive"], box.Classify(Tiny.Encode(" It was great fun."), neutral));
        Assert.Equal(["negative", "negative"], box.Classify(Tiny.Encode(" It was terrible."), neutral));
    }

    [Fact]
    public void Served_locally_it_is_metered_and_budgeted_as_the_language_model_is()
    {
        var service = new LocalBlackBoxClassifier(MiniLm(), Tiny.Tokenizer, queryBudget: 8);
        var prompt = Tiny.Encode(" the film was");
        var texts = Reviews.Take(5).Select(r => r.Text).ToArray();

        Assert.Equal(Reviews.Take(5).Select(r => r.Label), service.Classify(prompt, texts));
        Assert.Equal(5, service.Queries);
        Assert.Equal(texts.Sum(t => prompt.Count + Tiny.Encode(t).Count), service.TokensSent);   // tokens of the prompts' tokenizer, as for the LM

        long tokens = service.TokensSent;
        var refused = Assert.Throws<QueryBudgetExceededException>(() => service.Classify(prompt, texts.Take(4).ToArray()));
        Assert.Equal((8L, 5L, 4), (refused.Budget, refused.Used, refused.Requested));
        Assert.Equal((5L, tokens), (service.Queries, service.TokensSent));   // a refused call counts nothing
        service.Classify(prompt, texts.Take(3).ToArray());
        Assert.Equal(8, service.Queries);
    }

    [Fact]
    public void Unknown_names_and_labels_without_a_description_are_refused_precisely()
    {
        var unknown = Assert.Throws<ArgumentException>(() => BlackBoxes.Create("bert", Tiny.Classifier, Tiny.Tokenizer, TaskPreset.Sst2.Descriptions));
        Assert.Contains("unknown black box 'bert' (known: lm, minilm)", unknown.Message);
        var trec = Assert.Throws<InvalidDataException>(() => BlackBoxes.Create(BlackBoxes.MiniLm, Tiny.Classifier, Tiny.Tokenizer, TaskPreset.Trec.Descriptions));
        Assert.Contains("label descriptions have none for label(s) 'negative', 'positive'", trec.Message);
        Assert.IsType<LanguageModelBlackBox>(BlackBoxes.Create("LM", Tiny.Classifier, Tiny.Tokenizer, TaskPreset.Trec.Descriptions));   // the LM reads no descriptions
    }
}
