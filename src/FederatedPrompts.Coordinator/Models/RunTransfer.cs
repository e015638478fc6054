using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Post.Transfer;
using FederatedPrompts.Post.Tuning;
using static TorchSharp.torch;

namespace FederatedPrompts.Coordinator.Models;

/// <summary>
/// The transfer step's outcome, stored with the run and shown in its report. Accuracies are on the held-out set;
/// TransferredLarge is the published prompt's (the best on public_labeled when validating, else the last), LastLarge the last
/// step's. BestStep and Validation (step → public_labeled accuracy) are null without validation. Losses are over all public texts.
/// </summary>
public sealed record TransferOutcome(double Alpha, string AlphaSource, double ZeroShotLarge, double DirectLarge, double TransferredLarge,
    double LastLarge, double SmallWithPrompt, int Steps, double InitialLoss, double FinalLoss, int PublicTexts, double Seconds,
    int? BestStep = null, IReadOnlyList<ValidationPoint>? Validation = null);

/// <summary>POST: a global soft prompt of the small model to the large model, on public texts only; then held-out accuracies.</summary>
public static class RunTransfer
{
    public static (SoftPrompt LargePrompt, TransferOutcome Outcome) Run(RunModels models, RunConfig config, SoftPrompt globalPrompt,
        IProgress<TransferProgress>? progress = null)
    {
        lock (models.Compute)
        {
            var started = DateTime.UtcNow;
            using var scope = NewDisposeScope();
            var (small, large, heldOut, publicLabeled) = (models.SmallClassifier, models.LargeClassifier, models.Task.HeldOut, models.Task.PublicLabeled);
            var ps = globalPrompt.ToTensor(models.Small);
            double alpha;
            string source;
            if (config.Transfer.Alpha is double given) (alpha, source) = (given, "configured");
            else if (publicLabeled is not null)
            {
                var choice = PromptTransfer.ChooseAlpha(large, small, ps, publicLabeled.Examples.Select(e => (e.Text, e.Label)).ToList());
                (alpha, source) = (choice.Alpha, $"heuristic: zero-shot {choice.ZeroShotLarge:F3}, compressed {choice.CompressedSmall:F3}, random {choice.RandomGuess:F3}");
            }
            else (alpha, source) = (0.5, "default 0.5 (no public_labeled set for the heuristic)");

            var texts = PublicTexts.Load(config.PublicTexts, config.PublicTextsLimit, config.Seed);
            var options = new TransferOptions
            {
                Steps = config.Transfer.Steps, LearningRate = config.Transfer.LearningRate, BatchSize = config.Transfer.BatchSize,
                Alpha = alpha, Seed = config.Seed, ValidateEvery = config.Transfer.ValidateEvery,
            };
            var init = SoftPromptInit.Embed(models.Large, models.Tokenizer, globalPrompt.Length, config.InitTextInUse(), config.Seed);
            bool validating = options.ValidateEvery > 0;
            var result = new PromptTransfer(large, small, options).Run(texts, ps, init,
                validating ? publicLabeled!.Examples.Select(e => (e.Text, e.Label)).ToList() : null, progress);
            double transferred = large.Evaluate(heldOut, new PromptInput(result.Best)).Accuracy;
            var outcome = new TransferOutcome(alpha, source,
                ZeroShotLarge: large.Evaluate(heldOut, PromptInput.None).Accuracy,
                DirectLarge: large.Evaluate(heldOut, new PromptInput(ps)).Accuracy,
                TransferredLarge: transferred,
                LastLarge: validating ? large.Evaluate(heldOut, new PromptInput(result.Last)).Accuracy : transferred,
                SmallWithPrompt: small.Evaluate(heldOut, new PromptInput(ps)).Accuracy,
                options.Steps, result.InitialLoss, result.FinalLoss, texts.Texts.Count, (DateTime.UtcNow - started).TotalSeconds,
                validating ? result.BestStep : null, validating ? result.Validation : null);
            return (result.Best.ToSoftPrompt(ModelIdentity.Of(models.Large)), outcome);
        }
    }
}
