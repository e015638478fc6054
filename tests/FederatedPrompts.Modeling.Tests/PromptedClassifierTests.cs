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

    /// <summary>A real tokenizer that sees each text as <paramref name="rewrite"/> makes it.</summary>
    sealed class RewritingTokenizer(ITextTokenizer inner, Func<string, string> rewrite) : ITextTokenizer
    {
        public string Identity => inner.Identity;
        public int VocabSize => inner.VocabSize;
        public int? BosId => inner.BosId;
        public int? EosId => inner.EosId;
        public IReadOnlyList<int> Encode(string text) => inner.Encode(rewrite(text));
        public string Decode(IEnumerable<int> ids) => inner.Decode(ids);
    }

    [Fact]
    public void Labels_scored_by_the_same_tokens_are_refused()
    {
        var (model, tokenizer) = SmallModel();
        // Like SentencePiece's word-start marker, it spells "great" and " great" alike.
        var wordStart = new RewritingTokenizer(tokenizer, text => " " + text.TrimStart());
        var error = Assert.Throws<ArgumentException>(() => new PromptedClassifier(model, wordStart,
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

        var logits = UncutLogits(model, tokenizer, Texts[1] + " It was", model.Config.MaxPositions - 1);
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

    /// <summary>
    /// The inference service batches queries of several clients, each with its own discrete prompt (of different lengths):
    /// each row scores as it does alone with its prompt, and prompts for the wrong number of rows, or beside a shared
    /// prompt, are refused.
    /// </summary>
    [Fact]
    public void A_batch_with_a_prompt_per_row_scores_each_row_as_alone_with_its_prompt()
    {
        var (model, tokenizer) = SmallModel();
        var classifier = Classifier(model, tokenizer);
        IReadOnlyList<int>[] prompts = [tokenizer.Encode(" the film"), [], tokenizer.Encode(" a dull and tired"), tokenizer.Encode(" joy")];
        using var noGrad = no_grad();
        var mixed = classifier.ClassScores(Texts, new PromptInput(DiscretePerRow: prompts));
        for (int i = 0; i < Texts.Length; i++)
        {
            var alone = classifier.ClassScores([Texts[i]], new PromptInput(Discrete: prompts[i]));
            Assert.True(allclose(mixed[i], alone[0], rtol: 1e-4, atol: 1e-5), $"row {i} differs in a batch of other prompts");
        }
        Assert.Equal(Texts.Select((text, i) => classifier.Predict([text], new PromptInput(Discrete: prompts[i]))[0]),
            classifier.Predict(Texts, new PromptInput(DiscretePerRow: prompts), batchSize: 3));
        Assert.Contains("3 discrete prompts for 4 inputs",
            Assert.Throws<ArgumentException>(() => classifier.ClassScores(Texts, new PromptInput(DiscretePerRow: prompts[..3]))).Message);
        Assert.Contains("not both",
            Assert.Throws<ArgumentException>(() => classifier.ClassScores(Texts, new PromptInput(Discrete: prompts[0], DiscretePerRow: prompts))).Message);
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

    /// <summary>
    /// Next-token logits [V] after a templated text as the classifier reads them, computed without it and without any
    /// cut: the whole text tokenized, its last <paramref name="window"/> tokens after BOS.
    /// </summary>
    static Tensor UncutLogits(CausalLM model, ITextTokenizer tokenizer, string templated, int window)
    {
        var ids = new List<long>();
        if (tokenizer.BosId is int bos) ids.Add(bos);
        var tokens = tokenizer.Encode(templated);
        ids.AddRange(tokens.Skip(Math.Max(0, tokens.Count - window)).Select(i => (long)i));
        using var noGrad = no_grad();
        return model.Logits(tensor(ids.ToArray()).unsqueeze(0))[0, -1];
    }

    /// <summary>Each class's score is the mean of its one-token words' <paramref name="logits"/>.</summary>
    static void AssertScoresOf(Tensor logits, Tensor scores, ITextTokenizer tokenizer, string[][] words)
    {
        for (int c = 0; c < words.Length; c++)
            Assert.Equal(words[c].Average(w => logits[tokenizer.Encode(w).Single()].item<float>()), scores[c].item<float>(), 4);
    }

    /// <summary>The tokenizer behind a classifier, refusing at once (rather than tokenizing for minutes) any text over <paramref name="limit"/> characters.</summary>
    static RewritingTokenizer AtMost(ITextTokenizer tokenizer, int limit) => new(tokenizer, text => text.Length <= limit ? text
        : throw new InvalidOperationException($"the classifier tokenized {text.Length} characters, more than the {limit} its window needs"));

    /// <summary>A model, its tokenizer, one-token label words of two classes, a template and texts to classify, short and long.</summary>
    sealed record Case(CausalLM Model, ITextTokenizer Tokenizer, string[][] Words, Func<string, string> Render, string[] Texts);

    /// <summary>GPT-2 with the corpus tokenizer (64 positions); a long ordinary text, and a long run of the 13-character special token, one token per 13 characters.</summary>
    static Case Gpt2Case()
    {
        var (model, tokenizer) = SmallModel();
        return new(model, tokenizer, [[" great", " joy"], [" terrible"]], text => text + " It was",
            ["a joy", string.Join(" ", Enumerable.Range(0, 2000).Select(i => Corpus[i * 7 % Corpus.Length])),
             string.Concat(Enumerable.Repeat(Cl100kSubsetTokenizer.EndOfText, 4000)) + " the pace drags"]);
    }

    /// <summary>Llama with the hand-made SentencePiece tokenizer (128 positions); a long text of seeded random words.</summary>
    static Case LlamaCase(string folder)
    {
        var tokenizer = SentencePieceBpeTokenizerTests.HandMade(folder);
        var model = HfCheckpoint.Create(ReferenceForwardTests.Llama(heads: 4, kvHeads: 2) with { VocabSize = tokenizer.VocabSize }, seed: 3);
        var random = new Random(4);
        string[] words = ["hello", "world", "held", "low", "old", "word"];
        return new(model, tokenizer, [["hello"], ["world"]], text => text + " hello",
            ["world", string.Join(" ", Enumerable.Range(0, 12000).Select(_ => words[random.Next(words.Length)]))]);
    }

    public static TheoryData<string> Families => new() { "gpt2", "llama" };

    /// <summary>
    /// Issue #12: a long text is cut before it is tokenized (tokenizing can take quadratic time in a text's length),
    /// and every text still gets the class scores of its whole tokenization: short texts (tokenized whole), long
    /// ordinary ones (one cut) and a run of special tokens (13 characters a token: the first cut is doubled).
    /// </summary>
    [Theory]
    [MemberData(nameof(Families))]
    public void Long_texts_are_cut_before_tokenizing_and_score_as_their_whole_tokenization(string family)
    {
        using var folder = new TempFolder();
        var (model, tokenizer, words, render, texts) = family == "gpt2" ? Gpt2Case() : LlamaCase(folder.Path);
        int window = model.Config.MaxPositions - 1;   // after BOS, without a prompt
        int limit = 2 * window * PromptedClassifier.CutCharsPerToken;
        Assert.All(texts.Skip(1), text => Assert.True(text.Length > 20 * limit));
        var classifier = new PromptedClassifier(model, AtMost(tokenizer, limit), ["positive", "negative"], words, render);

        using var noGrad = no_grad();
        var scores = classifier.ClassScores(texts, PromptInput.None);
        for (int i = 0; i < texts.Length; i++)
            AssertScoresOf(UncutLogits(model, tokenizer, render(texts[i]), window), scores[i], tokenizer, words);
    }

    /// <summary>
    /// Issue #12: a megabyte of one letter (one piece, whose byte-pair merges took 8 s at 128 KB) is tokenized only as far
    /// as the window's first cut, and scores as a shorter run of the letter does when tokenized whole.
    /// </summary>
    [Fact]
    public void A_megabyte_of_one_letter_is_tokenized_only_as_far_as_the_first_cut()
    {
        var (model, tokenizer, words, render, _) = Gpt2Case();
        int window = model.Config.MaxPositions - 1;
        var classifier = new PromptedClassifier(model, AtMost(tokenizer, window * PromptedClassifier.CutCharsPerToken), ["positive", "negative"], words, render);

        using var noGrad = no_grad();
        var scores = classifier.ClassScores([new string('a', 1 << 20)], PromptInput.None);
        AssertScoresOf(UncutLogits(model, tokenizer, render(new string('a', 4 * window)), window), scores[0], tokenizer, words);
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
