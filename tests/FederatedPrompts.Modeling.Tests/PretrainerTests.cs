using FederatedPrompts.Core;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Tests;

public class PretrainerTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("pretrain").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // A corpus with an easy pattern: a model that learns anything drives held-out perplexity far down.
    static readonly string[] Documents = Enumerable.Range(0, 40)
        .Select(i => string.Join(" ", Enumerable.Range(0, 30).Select(j => new[] { "one", "two", "three", "four", "five" }[(i + j) % 5])))
        .ToArray();

    static PretrainJobSpec Spec(string dir, int steps, bool resume = false) => new()
    {
        Documents = Documents, OutputDir = dir, Shape = new GptShape(Layers: 1, Hidden: 32, Heads: 2, Context: 16), VocabSize = 300,
        HeldOutFraction = 0.1, Resume = resume,
        Options = new PretrainOptions { Steps = steps, BatchSize = 8, ContextLength = 16, LearningRate = 3e-3, WarmupSteps = 5, EvalEvery = 10, CheckpointEvery = 10, EvalTokens = 512, Seed = 3 },
    };

    [Fact]
    public void Training_lowers_held_out_perplexity_and_writes_a_loadable_folder()
    {
        var result = PretrainJob.Run(Spec(_dir, 60));
        Assert.Equal(60, result.State.Step);
        var curve = result.State.HeldOutCurve;
        Assert.Equal([0, 10, 20, 30, 40, 50, 60], curve.Select(p => p.Step));
        Assert.True(curve[^1].Perplexity < curve[0].Perplexity / 10, $"perplexity {curve[0].Perplexity:F1} → {curve[^1].Perplexity:F1}");
        Assert.True(result.State.TokensPerSecond > 0);

        using var reloaded = HfCheckpoint.Load(_dir);
        var tokenizer = TokenizerLoader.FromFolder(_dir);
        var ids = tokenizer.Encode("one two three four five one two three four");
        // The reloaded folder is the trained model: far better than the untrained one on the training pattern.
        double nll = LanguageModelScoring.MeanNll(reloaded, ids);
        Assert.True(nll < Math.Log(curve[0].Perplexity) / 2, $"mean NLL {nll} of the reloaded model vs {Math.Log(curve[0].Perplexity)} untrained");
        Assert.True(File.Exists(Path.Combine(_dir, PretrainJob.ReportFile)));
    }

    [Fact]
    public void Resumed_run_ends_with_the_weights_of_an_uninterrupted_run()
    {
        string straight = Path.Combine(_dir, "straight"), resumed = Path.Combine(_dir, "resumed");
        PretrainJob.Run(Spec(straight, 30));

        // Interrupt the same 30-step run after step 25; the checkpoint of step 20 is what survives.
        using var interrupt = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            PretrainJob.Run(Spec(resumed, 30), new SyncProgress<PretrainProgress>(p => { if (p.Step == 25) interrupt.Cancel(); }), interrupt.Token));
        Assert.Equal(20, Pretrainer.TryLoadCheckpoint(resumed)!.Step);
        var second = PretrainJob.Run(Spec(resumed, 30, resume: true));
        Assert.Equal(30, second.State.Step);
        Assert.Equal(30, second.State.TrainLosses.Count);

        using var a = HfCheckpoint.Load(straight);
        using var b = HfCheckpoint.Load(resumed);
        ModelAssert.SameParameters(a, b, "after resume");
    }

    [Fact]
    public void Learning_rate_warms_up_linearly_then_decays_by_cosine_to_the_floor()
    {
        var trainer = new Pretrainer(HfCheckpoint.Create(new GptShape(1, 8, 2, 8).ToConfig(300, Cl100kSubsetTokenizer.Train(Documents, 300)), 1),
            new PretrainOptions { Steps = 110, WarmupSteps = 10, LearningRate = 1.0, MinLearningRateFraction = 0.1 });
        Assert.Equal(0.1, trainer.LearningRateAt(0), 12);
        Assert.Equal(1.0, trainer.LearningRateAt(9), 12);
        Assert.Equal(1.0, trainer.LearningRateAt(10), 12);
        Assert.Equal(0.55, trainer.LearningRateAt(60), 12);   // halfway: floor + (1-floor)/2
        Assert.Equal(0.1, trainer.LearningRateAt(110), 12);
    }

    [Fact]
    public void Split_is_seeded_disjoint_and_keeps_one_document_each_side()
    {
        var docs = Enumerable.Range(0, 10).Select(i => $"doc {i}").ToList();
        var (train, heldOut) = PretrainJob.Split(docs, 0.2, seed: 5);
        Assert.Equal(2, heldOut.Count);
        Assert.Empty(train.Intersect(heldOut));
        Assert.Equal(docs.Order(), train.Concat(heldOut).Order());
        Assert.Equal(heldOut, PretrainJob.Split(docs, 0.2, seed: 5).HeldOut);
        Assert.Single(PretrainJob.Split(docs[..2], 0.01, seed: 5).HeldOut);
        Assert.Throws<ArgumentException>(() => PretrainJob.Split(docs, 1.0, 5));
    }
}
