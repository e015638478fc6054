using System.Reflection;
using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using FederatedPrompts.Post.Transfer;
using FederatedPrompts.Post.Tuning;
using static TorchSharp.torch;

namespace FederatedPrompts.Post.Tests.Transfer;

public class PromptTransferTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(0.7, 0.9, 0.5, 0.5)]     // (0.7−0.5)/(0.9−0.5)
    [InlineData(0.95, 0.9, 0.5, 1.0)]    // large model already beats the compressed one: capped at 1
    [InlineData(0.4, 0.9, 0.5, 0.0)]     // zero-shot below chance: clamped at 0
    [InlineData(0.7, 0.45, 0.5, 1.0)]    // compressed prompt no better than chance: only the change term
    [InlineData(0.3, 0.6, 1.0 / 6, 0.3)] // six classes: (0.3−1/6)/(0.6−1/6) = 0.30769… → checked to 1 decimal
    public void Alpha_heuristic_matches_hand_computation(double zeroShot, double compressed, double random, double expected) =>
        Assert.Equal(expected, PromptTransfer.AlphaHeuristic(zeroShot, compressed, random), 1);

    [Fact]
    public void Loss_is_the_official_kl_from_the_small_model_to_the_large_one_times_t_squared()
    {
        // Three-token vocabulary. Distributions chosen by their logits: logits = log p, so softmax gives p back exactly.
        //   small prompted p_s = (0.98, 0.01, 0.01), large prompted p_t = (0.4, 0.3, 0.3)
        //   small plain (0.5, 0.25, 0.25),        large plain (0.25, 0.25, 0.5)
        static Tensor Logits(params double[] p) => tensor(p.Select(v => (float)Math.Log(v)).ToArray()).reshape(1, 3);
        double[] ps = [0.98, 0.01, 0.01], pt = [0.4, 0.3, 0.3], ss = [0.5, 0.25, 0.25], ts = [0.25, 0.25, 0.5];
        static double Kl(double[] p, double[] q) => p.Zip(q, (a, b) => a * Math.Log(a / b)).Sum();
        static double[] Normalised(double[] v) => v.Select(x => x / v.Sum()).ToArray();
        // The change term compares softmax(prompted − plain) = normalised ratios p_prompted / p_plain.
        var changeSmall = Normalised(ps.Zip(ss, (a, b) => a / b).ToArray());
        var changeLarge = Normalised(pt.Zip(ts, (a, b) => a / b).ToArray());
        double alpha = 0.25;
        double official = (1 - alpha) * Kl(ps, pt) + alpha * Kl(changeSmall, changeLarge);      // KL(source ‖ target), T = 1
        double reversed = (1 - alpha) * Kl(pt, ps) + alpha * Kl(changeLarge, changeSmall);
        Assert.True(Math.Abs(official - reversed) > 0.5, "the hand case must tell the two directions apart");

        double loss = PromptTransfer.Loss(Logits(pt), Logits(ps), Logits(ts), Logits(ss), alpha, temperature: 1).item<float>();
        Assert.Equal(official, loss, 5);

        // Temperature divides the logits and the loss is scaled by T² (as the official code and Hinton et al. do).
        double atTwo = PromptTransfer.Loss(Logits(pt), Logits(ps), Logits(ts), Logits(ss), alpha, temperature: 2).item<float>();
        double scaledByHand = PromptTransfer.Loss(Logits(pt) / 2, Logits(ps) / 2, Logits(ts) / 2, Logits(ss) / 2, alpha, temperature: 1).item<float>() * 4;
        Assert.Equal(scaledByHand, atTwo, 5);
    }

    static readonly string[] Corpus = ["the film was lovely. It was great.", "the film was dull. It was terrible.", "a bright and moving story.", "a flat and tired plot."];

    (PromptedClassifier Large, PromptedClassifier Small, PublicTexts Texts, ITextTokenizer Tokenizer) Pair()
    {
        var tokenizer = Cl100kSubsetTokenizer.Train(Corpus, 300);
        CausalLM Model(int seed, int layers)
        {
            var m = HfCheckpoint.Create(new GptShape(layers, 32, 4, 64).ToConfig(tokenizer.VocabSize, tokenizer), seed);
            using (no_grad()) foreach (var p in m.parameters()) if (p.dim() == 2) p.mul_(10);   // expressive, as trained models are
            return m;
        }
        PromptedClassifier Classifier(CausalLM m) => new(m, tokenizer, ["positive", "negative"], [[" great"], [" terrible"]], t => t + " It was");
        var texts = PublicTexts.Load(_dir.Write("public.txt", string.Join("\n\n", Corpus)));
        return (Classifier(Model(1, 2)), Classifier(Model(2, 1)), texts, tokenizer);
    }

    [Fact]
    public void Transfer_between_different_models_lowers_the_loss_and_identical_ones_start_at_zero()
    {
        var (large, small, texts, tokenizer) = Pair();
        var smallPrompt = SoftPromptInit.Embed(small.Model, tokenizer, 3, null, seed: 4);
        var init = SoftPromptInit.Embed(large.Model, tokenizer, 3, null, seed: 4);

        // Batches of 3 over 4 texts: the whole-set losses must still weigh every text once.
        var options = new TransferOptions { Steps = 40, LearningRate = 0.05, BatchSize = 3, Alpha = 0.5 };
        var result = new PromptTransfer(large, small, options).Run(texts, smallPrompt, init);
        Assert.True(result.Losses.TakeLast(5).Average() < result.Losses.Take(5).Average() * 0.9,
            $"loss {result.Losses.Take(5).Average():F4} → {result.Losses.TakeLast(5).Average():F4}");
        Assert.True(result.FinalLoss < result.InitialLoss, $"whole-set loss {result.InitialLoss:F4} → {result.FinalLoss:F4}");
        Assert.Same(result.Last, result.Best);                      // without validation the last prompt is the result
        Assert.Equal(40, result.BestStep);
        Assert.Empty(result.Validation);

        using (no_grad())
        {
            // The whole-set loss is the loss of one batch holding every public text.
            var all = texts.Texts;
            double WholeSet(Tensor prompt) => PromptTransfer.Loss(large.PredictionLogits(all, new PromptInput(prompt)), small.PredictionLogits(all, new PromptInput(smallPrompt)),
                large.PredictionLogits(all, PromptInput.None), small.PredictionLogits(all, PromptInput.None), 0.5, 2.0).item<float>();
            Assert.Equal(WholeSet(init), result.InitialLoss, 4);
            Assert.Equal(WholeSet(result.Last), result.FinalLoss, 4);
        }

        var self = new PromptTransfer(small, small, options with { Steps = 1 }).Run(texts, smallPrompt, smallPrompt);
        Assert.Equal(0, self.Losses[0], 5);
        Assert.Equal(0, self.InitialLoss, 5);
    }

    [Fact]
    public void Validation_every_n_steps_keeps_the_earliest_best_prompt_and_reports_the_last()
    {
        var (large, small, texts, tokenizer) = Pair();
        var smallPrompt = SoftPromptInit.Embed(small.Model, tokenizer, 3, null, seed: 4);
        var init = SoftPromptInit.Embed(large.Model, tokenizer, 3, null, seed: 4);
        IReadOnlyList<(string Text, string Label)> validation =
            [("a lovely film", "positive"), ("a dull film", "negative"), ("bright and moving", "positive"), ("flat and tired", "negative")];
        var options = new TransferOptions { Steps = 25, LearningRate = 0.05, BatchSize = 4, Alpha = 0.5, ValidateEvery = 10 };
        var result = new PromptTransfer(large, small, options).Run(texts, smallPrompt, init, validation);

        Assert.Equal([0, 10, 20, 25], result.Validation.Select(v => v.Step));           // the start, every 10 steps, and the last
        double best = result.Validation.Max(v => v.Accuracy);
        Assert.Equal(result.Validation.First(v => v.Accuracy == best).Step, result.BestStep);
        Assert.Equal(best, large.Evaluate(validation, new PromptInput(result.Best)).Accuracy);
        Assert.Equal(result.Validation[^1].Accuracy, large.Evaluate(validation, new PromptInput(result.Last)).Accuracy);
        if (result.BestStep == 0) Assert.True(allclose(result.Best, init));

        var error = Assert.Throws<ArgumentException>(() => new PromptTransfer(large, small, options).Run(texts, smallPrompt, init));
        Assert.Contains("public labeled validation set", error.Message);
    }

    [Fact]
    public void Transfer_accepts_no_private_data_type()
    {
        // Enforced in the API: no public member of the transfer takes labeled task data.
        var forbidden = new[] { typeof(TaskDataset), typeof(LabeledExample), typeof(IEnumerable<LabeledExample>), typeof(IReadOnlyList<LabeledExample>) };
        var parameters = typeof(PromptTransfer).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
            .SelectMany(m => m.GetParameters()).Concat(typeof(PromptTransfer).GetConstructors().SelectMany(c => c.GetParameters()));
        Assert.DoesNotContain(parameters, p => forbidden.Contains(p.ParameterType));
        Assert.Empty(typeof(PublicTexts).GetConstructors());   // only PublicTexts.Load(file) makes one
    }
}
