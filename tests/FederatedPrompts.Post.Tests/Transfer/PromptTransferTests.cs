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
    public void Loss_matches_hand_computed_kl_terms()
    {
        // Two-token vocabulary, T = 1: KL(p‖q) = Σ p log(p/q) by hand.
        var largePrompted = tensor(new float[] { 1f, 0f }).reshape(1, 2);
        var smallPrompted = tensor(new float[] { 0f, 0f }).reshape(1, 2);
        var largePlain = tensor(new float[] { 0f, 1f }).reshape(1, 2);
        var smallPlain = tensor(new float[] { 0f, 0f }).reshape(1, 2);
        double p = 1 / (1 + Math.Exp(-1));                               // softmax([1,0])[0]
        double direct = p * Math.Log(p / 0.5) + (1 - p) * Math.Log((1 - p) / 0.5);
        double pc = 1 / (1 + Math.Exp(-2));                              // softmax([1,−1])[0]
        double change = pc * Math.Log(pc / 0.5) + (1 - pc) * Math.Log((1 - pc) / 0.5);
        Assert.Equal(0.75 * direct + 0.25 * change,
            PromptTransfer.Loss(largePrompted, smallPrompted, largePlain, smallPlain, alpha: 0.25, temperature: 1).item<float>(), 5);
        // Temperature divides the logits.
        Assert.Equal(PromptTransfer.Loss(largePrompted / 2, smallPrompted / 2, largePlain / 2, smallPlain / 2, 0.25, 1).item<float>(),
            PromptTransfer.Loss(largePrompted, smallPrompted, largePlain, smallPlain, 0.25, 2).item<float>(), 6);
    }

    [Fact]
    public void Transfer_between_different_models_lowers_the_loss_and_identical_ones_start_at_zero()
    {
        string[] corpus = ["the film was lovely. It was great.", "the film was dull. It was terrible.", "a bright and moving story.", "a flat and tired plot."];
        var tokenizer = Cl100kSubsetTokenizer.Train(corpus, 300);
        CausalLM Model(int seed, int layers)
        {
            var m = HfCheckpoint.Create(new GptShape(layers, 32, 4, 64).ToConfig(tokenizer.VocabSize, tokenizer), seed);
            using (no_grad()) foreach (var p in m.parameters()) if (p.dim() == 2) p.mul_(10);   // expressive, as trained models are
            return m;
        }
        PromptedClassifier Classifier(CausalLM m) => new(m, tokenizer, ["positive", "negative"], [[" great"], [" terrible"]], t => t + " It was");
        var texts = PublicTexts.Load(_dir.Write("public.txt", string.Join("\n\n", corpus)));
        var large = Classifier(Model(1, 2));
        var small = Classifier(Model(2, 1));
        var smallPrompt = SoftPromptInit.Embed(small.Model, tokenizer, 3, null, seed: 4);
        var init = SoftPromptInit.Embed(large.Model, tokenizer, 3, null, seed: 4);

        var options = new TransferOptions { Steps = 40, LearningRate = 0.05, BatchSize = 4, Alpha = 0.5 };
        var result = new PromptTransfer(large, small, options).Run(texts, smallPrompt, init);
        Assert.True(result.Losses.TakeLast(5).Average() < result.Losses.Take(5).Average() * 0.9,
            $"loss {result.Losses.Take(5).Average():F4} → {result.Losses.TakeLast(5).Average():F4}");

        var self = new PromptTransfer(small, small, options with { Steps = 1 }).Run(texts, smallPrompt, smallPrompt);
        Assert.Equal(0, self.Losses[0], 5);
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
