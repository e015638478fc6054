using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Tests;

public class PromptedClassifierTests
{
    static readonly string[] Corpus =
    [
        "the film was a joy from start to end . It was great .",
        "a dull and tired story . It was terrible .",
        "what a wonderful cast and a moving plot . It was great .",
        "the jokes fall flat and the pace drags . It was terrible .",
    ];

    static (CausalLM Model, ITextTokenizer Tokenizer) SmallModel()
    {
        var tokenizer = Cl100kSubsetTokenizer.Train(Corpus, 300);
        var model = HfCheckpoint.Create(new GptShape(Layers: 2, Hidden: 32, Heads: 4, Context: 64).ToConfig(tokenizer.VocabSize, tokenizer), seed: 7);
        return (model, tokenizer);
    }

    /// <summary>" good" is not in the corpus, so this vocabulary spells it from bytes: it is left out, and " joy" and " great" score "positive".</summary>
    static PromptedClassifier Classifier(CausalLM model, ITextTokenizer tokenizer) =>
        new(model, tokenizer, ["positive", "negative"], [[" great", " good", " joy"], [" terrible"]], text => text + " It was");

    static readonly string[] Texts = ["a joy", "the pace drags and the jokes fall flat", "wonderful", "a dull and tired story from start to end"];

    /// <summary>" spam" and " legitimate" are not in this 300-token vocabulary: both begin with the byte token " ".</summary>
    [Fact]
    public void A_label_left_without_a_one_token_word_is_refused_naming_its_words_and_tokens()
    {
        var (model, tokenizer) = SmallModel();
        Assert.Equal(tokenizer.Encode(" spam")[0], tokenizer.Encode(" legitimate")[0]);
        var error = Assert.Throws<ArgumentException>(() =>
            new PromptedClassifier(model, tokenizer, ["spam", "ham"], [[" spam"], [" legitimate"]], text => text + " This message is"));
        Assert.Contains("label \"spam\" has no label word that is one token of this tokenizer", error.Message);
        Assert.Contains($"\" spam\" is [{string.Join(", ", tokenizer.Encode(" spam"))}]", error.Message);
    }

    /// <summary>A tokenizer that, like SentencePiece's word-start marker, spells "great" and " great" alike.</summary>
    sealed class WordStartTokenizer(ITextTokenizer inner) : ITextTokenizer
    {
        public string Identity => inner.Identity;
        public int VocabSize => inner.VocabSize;
        public int? BosId => inner.BosId;
        public int? EosId => inner.EosId;
        public IReadOnlyList<int> Encode(string text) => inner.Encode(" " + text.TrimStart());
        public string Decode(IEnumerable<int> ids) => inner.Decode(ids);
    }

    [Fact]
    public void Labels_scored_by_the_same_tokens_are_refused()
    {
        var (model, tokenizer) = SmallModel();
        var error = Assert.Throws<ArgumentException>(() => new PromptedClassifier(model, new WordStartTokenizer(tokenizer),
            ["positive", "negative"], [["great"], [" great"]], text => text + " It was"));
        Assert.Contains("labels \"positive\" and \"negative\" cannot be told apart", error.Message);
        Assert.Contains($"[{tokenizer.Encode(" great")[0]}]", error.Message);
    }

    [Fact]
    public void Class_score_is_the_mean_logit_of_its_one_token_label_words_and_split_words_are_reported()
    {
        var (model, tokenizer) = SmallModel();
        using var noGrad = no_grad();
        var scores = Classifier(model, tokenizer).ClassScores([Texts[1]], PromptInput.None);

        var ids = new List<long>();
        if (tokenizer.BosId is int bos) ids.Add(bos);
        ids.AddRange(tokenizer.Encode(Texts[1] + " It was").Select(i => (long)i));
        var logits = model.Logits(tensor(ids.ToArray()).unsqueeze(0))[0, -1];
        float Logit(string word) => logits[tokenizer.Encode(word)[0]].item<float>();
        float positive = (Logit(" great") + Logit(" joy")) / 2, negative = Logit(" terrible");

        Assert.Equal(positive, scores[0, 0].item<float>(), 4);
        Assert.Equal(negative, scores[0, 1].item<float>(), 4);

        var dropped = Assert.Single(Classifier(model, tokenizer).DroppedWords);
        Assert.Equal(("positive", " good"), (dropped.Label, dropped.Word));
        Assert.Equal(tokenizer.Encode(" good"), dropped.Tokens);
        Assert.True(dropped.Tokens.Count > 1);
    }

    [Fact]
    public void Batched_scores_equal_one_at_a_time_with_soft_and_discrete_prompts()
    {
        var (model, tokenizer) = SmallModel();
        var classifier = Classifier(model, tokenizer);
        var soft = randn(3, model.HiddenSize, generator: new Generator(1).manual_seed(1));
        var discrete = tokenizer.Encode(" the film");
        foreach (var prompt in new[] { PromptInput.None, new PromptInput(soft), new PromptInput(soft, discrete), new PromptInput(null, discrete) })
        {
            using var noGrad = no_grad();
            var batched = classifier.ClassScores(Texts, prompt);
            for (int i = 0; i < Texts.Length; i++)
            {
                var single = classifier.ClassScores([Texts[i]], prompt);
                Assert.True(allclose(batched[i], single[0], rtol: 1e-4, atol: 1e-5), $"row {i} differs when padded in a batch");
            }
        }
    }

    [Fact]
    public void Soft_prompt_receives_gradient()
    {
        var (model, tokenizer) = SmallModel();
        var soft = (randn(2, model.HiddenSize) * 0.1).requires_grad_();
        Classifier(model, tokenizer).ClassScores(Texts, new PromptInput(soft)).sum().backward();
        Assert.NotNull(soft.grad);
        Assert.True(soft.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Soft_prompt_of_the_wrong_width_is_rejected_with_both_sizes()
    {
        var (model, tokenizer) = SmallModel();
        var ex = Assert.Throws<ArgumentException>(() => Classifier(model, tokenizer).ClassScores(Texts, new PromptInput(zeros(2, 16))));
        Assert.Contains("[2,16]", ex.Message);
        Assert.Contains(model.HiddenSize.ToString(), ex.Message);
    }

    [Fact]
    public void Texts_longer_than_the_model_keep_their_end_and_fit_its_positions()
    {
        var (model, tokenizer) = SmallModel();                       // 64 positions
        var classifier = Classifier(model, tokenizer);
        string longText = string.Join(" ", Enumerable.Repeat("the film was a joy", 40));
        var soft = zeros(5, model.HiddenSize);
        using var noGrad = no_grad();
        var scores = classifier.ClassScores([longText, "a joy"], new PromptInput(soft, tokenizer.Encode(" the film")));
        Assert.Equal([2L, 2L], scores.shape);
        Assert.Throws<ArgumentException>(() => classifier.ClassScores(["a joy"], new PromptInput(zeros(70, model.HiddenSize))));
    }

    [Fact]
    public void Evaluate_counts_agree_with_predictions()
    {
        var (model, tokenizer) = SmallModel();
        var classifier = Classifier(model, tokenizer);
        var examples = Texts.Select((t, i) => (t, i % 2 == 0 ? "positive" : "negative")).ToList();
        var result = classifier.Evaluate(examples, PromptInput.None, batchSize: 3);
        var predictions = classifier.Predict(Texts, PromptInput.None);
        Assert.Equal(predictions, result.Predictions);
        int correct = examples.Where((e, i) => classifier.Labels[predictions[i]] == e.Item2).Count();
        Assert.Equal((double)correct / examples.Count, result.Accuracy);
        Assert.Equal(examples.Count, result.Confusion.Cast<int>().Sum());
        Assert.Throws<ArgumentException>(() => classifier.Evaluate([("x", "neutral")], PromptInput.None));
    }

    [Fact]
    public void Macro_accuracy_is_the_mean_recall_of_the_classes_that_occur_or_are_predicted()
    {
        // rows: true label, columns: predicted. Recalls: a 8/10, b 1/4, c 0/1; d never occurs and is never predicted (left out).
        int[,] confusion =
        {
            { 8, 2, 0, 0 },
            { 3, 1, 0, 0 },
            { 1, 0, 0, 0 },
            { 0, 0, 0, 0 },
        };
        Assert.Equal((0.8 + 0.25 + 0.0) / 3, ClassificationResult.MacroAccuracyOf(confusion), 12);
        // A class predicted but absent from the truth counts with recall 0 (torchmetrics' macro average).
        int[,] predictedOnly = { { 3, 1 }, { 0, 0 } };
        Assert.Equal((0.75 + 0) / 2, ClassificationResult.MacroAccuracyOf(predictedOnly), 12);
        var result = new ClassificationResult(9.0 / 15, 15, confusion, ["a", "b", "c", "d"], []);
        Assert.Equal(0.35, result.MacroAccuracy, 12);     // below the 60 % accuracy that the frequent class carries
        Assert.Throws<ArgumentException>(() => ClassificationResult.MacroAccuracyOf(new int[2, 3]));
    }
}
