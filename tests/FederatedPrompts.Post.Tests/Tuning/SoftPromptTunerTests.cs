using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using FederatedPrompts.Post.Tuning;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FederatedPrompts.Post.Tests.Tuning;

public class SoftPromptTunerTests
{
    static readonly (string Text, int Label)[] Examples =
    [
        ("a joy from start to end", 0), ("dull and tired", 1), ("a wonderful cast", 0), ("the jokes fall flat", 1),
        ("moving and bright", 0), ("slow and empty", 1), ("a lovely little film", 0), ("a mess of a plot", 1),
    ];

    static (CausalLM, ITextTokenizer, PromptedClassifier) Setup()
    {
        var tokenizer = Cl100kSubsetTokenizer.Train(Examples.Select(e => e.Text + " It was great terrible"), 300);
        var model = HfCheckpoint.Create(new GptShape(Layers: 2, Hidden: 32, Heads: 4, Context: 64).ToConfig(tokenizer.VocabSize, tokenizer), seed: 5);
        // At the 0.02 init every logit is nearly equal and a prompt has nothing to steer; larger weights make the
        // frozen model's output depend on its input, as a trained model's does.
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (p.dim() == 2) p.mul_(10);
        var classifier = new PromptedClassifier(model, tokenizer, ["positive", "negative"], [[" great"], [" terrible"]], t => t + " It was");
        return (model, tokenizer, classifier);
    }

    [Fact]
    public void Per_example_prompt_copies_give_each_example_its_own_gradient()
    {
        var (model, _, classifier) = Setup();
        foreach (var p in model.parameters()) p.requires_grad_(false);
        var prompt = randn(3, model.HiddenSize, generator: new Generator(2));
        var texts = Examples.Take(4).Select(e => e.Text).ToList();
        var labels = tensor(Examples.Take(4).Select(e => (long)e.Label).ToArray());

        var copies = prompt.unsqueeze(0).repeat(4, 1, 1).requires_grad_();
        F.cross_entropy(classifier.ClassScores(texts, new PromptInput(copies)), labels, reduction: nn.Reduction.Sum).backward();

        for (int i = 0; i < 4; i++)
        {
            var single = prompt.clone().requires_grad_();
            F.cross_entropy(classifier.ClassScores([texts[i]], new PromptInput(single)), labels[i..(i + 1)]).backward();
            Assert.True(allclose(copies.grad![i], single.grad!, rtol: 1e-4, atol: 1e-6), $"example {i}");
        }
    }

    [Fact]
    public void Tuning_lowers_the_training_loss_and_is_reproducible_from_the_seed()
    {
        var (model, tokenizer, classifier) = Setup();
        var options = new TuneOptions { PromptLength = 4, LearningRate = 0.05, Epochs = 15, BatchSize = 4, Seed = 9 };
        var first = new SoftPromptTuner(model, tokenizer, classifier, options).Tune(Examples);
        Assert.Equal(30, first.Steps);
        Assert.True(first.Losses.TakeLast(4).Average() < first.Losses.Take(4).Average() * 0.8,
            $"loss {first.Losses.Take(4).Average():F3} → {first.Losses.TakeLast(4).Average():F3}");
        var second = new SoftPromptTuner(model, tokenizer, classifier, options).Tune(Examples);
        Assert.True(first.Prompt.eq(second.Prompt).all().item<bool>());
    }

    [Fact]
    public void Dp_tuning_runs_epochs_over_q_steps_with_bounded_noisy_updates()
    {
        var (model, tokenizer, classifier) = Setup();
        var options = new TuneOptions { PromptLength = 2, LearningRate = 0.01, Epochs = 2, BatchSize = 2, Seed = 4, ClipNorm = 0.5, NoiseMultiplier = 1.0 };
        var tuner = new SoftPromptTuner(model, tokenizer, classifier, options);
        var result = tuner.Tune(Examples);
        Assert.Equal(8, result.Steps);                              // 2 epochs / q, q = 2/8
        Assert.Equal(new DpSettings(0.5, 1.0, 0.25), result.Dp);
        Assert.False(result.Prompt.isnan().any().item<bool>());
    }

    [Fact]
    public void Prompt_initialised_from_text_repeats_its_token_embeddings()
    {
        var (model, tokenizer, classifier) = Setup();
        var options = new TuneOptions { PromptLength = 5, Epochs = 1, BatchSize = 8, LearningRate = 0, InitText = "great terrible" };
        var result = new SoftPromptTuner(model, tokenizer, classifier, options).Tune(Examples);
        var ids = tokenizer.Encode("great terrible");
        var expected = model.EmbedTokens(tensor(Enumerable.Range(0, 5).Select(i => (long)ids[i % ids.Count]).ToArray()));
        Assert.True(allclose(result.Prompt, expected));
    }

    [Fact]
    public void A_dp_sgd_step_moves_the_prompt_by_minus_lr_times_the_clipped_noisy_mean_gradient()
    {
        var (model, tokenizer, classifier) = Setup();
        // q = 8/8 = 1: the one step's Poisson batch is every example, so the step can be recomputed by hand.
        var options = new TuneOptions
        {
            PromptLength = 2, Epochs = 1, BatchSize = 8, Seed = 4, ClipNorm = 0.5, NoiseMultiplier = 1.0,
            Optimizer = PromptOptimizer.Sgd, LearningRate = 0.3,
        };
        var result = new SoftPromptTuner(model, tokenizer, classifier, options).Tune(Examples);
        Assert.Equal(1, result.Steps);
        Assert.Equal(PromptOptimizer.Sgd, result.Optimizer);

        var start = SoftPromptInit.Embed(model, tokenizer, 2, null, seed: 4);
        var sum = new double[start.numel()];
        foreach (var (text, label) in Examples)
        {
            // Each example's gradient on its own, clipped to norm C = 0.5 in double precision.
            var single = start.clone().requires_grad_();
            F.cross_entropy(classifier.ClassScores([text], new PromptInput(single)), tensor(new long[] { label })).backward();
            var g = single.grad!.data<float>().Select(v => (double)v).ToArray();
            double norm = Math.Sqrt(g.Sum(v => v * v));
            double factor = Math.Min(1, 0.5 / norm);
            for (int i = 0; i < g.Length; i++) sum[i] += g[i] * factor;
        }
        // The noise is N(0, σ²C²) per coordinate, drawn on the CPU from a generator seeded Seed + 1.
        var noise = randn(start.shape, generator: new Generator(5)).data<float>().ToArray();
        var begin = start.data<float>().ToArray();
        var expected = begin.Select((p, i) => (float)(p - 0.3 * (sum[i] + noise[i] * 1.0 * 0.5) / 8)).ToArray();
        Assert.True(allclose(result.Prompt, tensor(expected).reshape(start.shape), rtol: 1e-4, atol: 1e-6));
        Assert.False(allclose(result.Prompt, start));
    }

    [Fact]
    public void Sgd_tuning_lowers_the_training_loss()
    {
        var (model, tokenizer, classifier) = Setup();
        var options = new TuneOptions { PromptLength = 4, Optimizer = PromptOptimizer.Sgd, LearningRate = 1.0, Epochs = 15, BatchSize = 4, Seed = 9 };
        var result = new SoftPromptTuner(model, tokenizer, classifier, options).Tune(Examples);
        Assert.Equal((PromptOptimizer.Sgd, 1.0), (result.Optimizer, result.LearningRate));
        Assert.True(result.Losses.TakeLast(4).Average() < result.Losses.Take(4).Average() * 0.8,
            $"loss {result.Losses.Take(4).Average():F3} → {result.Losses.TakeLast(4).Average():F3}");
    }

    [Fact]
    public void The_default_optimizer_is_sgd_under_dp_and_adam_without_as_the_official_code()
    {
        var plain = new TuneOptions();
        var dp = new TuneOptions { ClipNorm = 1, NoiseMultiplier = 1 };
        Assert.Equal((PromptOptimizer.Adam, TuneOptions.DefaultLearningRate(PromptOptimizer.Adam)), (plain.OptimizerInUse, plain.LearningRateInUse));
        Assert.Equal((PromptOptimizer.Sgd, TuneOptions.DefaultLearningRate(PromptOptimizer.Sgd)), (dp.OptimizerInUse, dp.LearningRateInUse));
        Assert.Equal(PromptOptimizer.Adam, (dp with { Optimizer = PromptOptimizer.Adam }).OptimizerInUse);
        Assert.Equal(PromptOptimizer.Sgd, TuneOptions.ParseOptimizer("SGD"));
        Assert.Contains("optimizer must be sgd or adam, not \"rmsprop\"", Assert.Throws<ArgumentException>(() => TuneOptions.ParseOptimizer("rmsprop")).Message);
    }
}
