using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Modeling.Classification;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FederatedPrompts.Post.Transfer;

public sealed record TransferOptions
{
    public int Steps { get; init; } = 300;
    public double LearningRate { get; init; } = 1e-3;
    public int BatchSize { get; init; } = 16;
    public double Temperature { get; init; } = 2.0;
    /// <summary>Weight α of the prompt-change term, e.g. from <see cref="PromptTransfer.AlphaHeuristic"/>.</summary>
    public required double Alpha { get; init; }
    public int Seed { get; init; } = 1;
}

public sealed record TransferProgress(int Step, int TotalSteps, double Loss);

public sealed record TransferResult(Tensor Prompt, IReadOnlyList<double> Losses);

/// <summary>α from <see cref="PromptTransfer.AlphaHeuristic"/> and the accuracies (on a public labeled set) it came from.</summary>
public sealed record AlphaChoice(double Alpha, double ZeroShotLarge, double CompressedSmall, double RandomGuess);

/// <summary>
/// POST's transfer of a soft prompt p_s tuned on the small model Φ_s to the large model Φ_t, using public texts only:
/// L = T²·[(1−α)·KL(σ(Φ_s(p_s+x)/T) ‖ σ(Φ_t(p_t+x)/T)) + α·KL(σ((Φ_s(p_s+x) − Φ_s(x))/T) ‖ σ((Φ_t(p_t+x) − Φ_t(x))/T))],
/// on full-vocabulary logits at the prediction position. The first term matches the small model's prompted
/// predictions; the second matches the change the prompt causes, which transfers where the two models disagree
/// without a prompt. Only p_t is trained; everything on the small-model side is computed once. The direction is the
/// official code's (sprintml/POST utils/transfer.py, mix_transfer: nn.KLDivLoss(log_softmax(target/T), softmax(source/T))·T²,
/// batch mean): the small model's distribution is the reference, so p_t is pushed to cover every token the prompted small
/// model puts mass on (mass-covering), rather than to sit on one of its modes as the reverse KL would.
/// </summary>
public sealed class PromptTransfer(PromptedClassifier large, PromptedClassifier small, TransferOptions options)
{
    /// <summary>
    /// α = min((ZS − RG)/(C − RG), 1), clamped to [0,1]: ZS the large model's zero-shot accuracy, C the small model's
    /// accuracy with its prompt, RG random guessing. A large model already close to the compressed one needs the
    /// change term more; where the prompt does not beat chance on the small model (C ≤ RG), only the change term is
    /// informative, so α = 1.
    /// </summary>
    public static double AlphaHeuristic(double zeroShotLarge, double compressedSmall, double randomGuess)
    {
        if (compressedSmall <= randomGuess) return 1.0;
        return Math.Clamp((zeroShotLarge - randomGuess) / (compressedSmall - randomGuess), 0.0, 1.0);
    }

    /// <summary>
    /// α from the large model's zero-shot accuracy and the small model's accuracy with <paramref name="smallPrompt"/>, both on
    /// <paramref name="publicLabeled"/>: labeled data the operator declares public, never a client's private or test data.
    /// </summary>
    public static AlphaChoice ChooseAlpha(PromptedClassifier large, PromptedClassifier small, Tensor smallPrompt,
        IReadOnlyList<(string Text, string Label)> publicLabeled)
    {
        double zeroShot = large.Evaluate(publicLabeled, PromptInput.None).Accuracy;
        double compressed = small.Evaluate(publicLabeled, new PromptInput(smallPrompt)).Accuracy;
        double random = 1.0 / large.Labels.Count;
        return new AlphaChoice(AlphaHeuristic(zeroShot, compressed, random), zeroShot, compressed, random);
    }

    /// <summary>The loss for one batch of logits [B,V]; exposed for checking against hand computation.</summary>
    public static Tensor Loss(Tensor largePrompted, Tensor smallPrompted, Tensor largePlain, Tensor smallPlain, double alpha, double temperature)
    {
        // KL(source ‖ target) averaged over the batch: the source (small model) is the reference distribution.
        static Tensor Kl(Tensor sourceLogits, Tensor targetLogits)
        {
            var logSource = F.log_softmax(sourceLogits, -1);
            return (logSource.exp() * (logSource - F.log_softmax(targetLogits, -1))).sum(-1).mean();
        }
        var direct = Kl(smallPrompted / temperature, largePrompted / temperature);
        var change = Kl((smallPrompted - smallPlain) / temperature, (largePrompted - largePlain) / temperature);
        return (direct * (1 - alpha) + change * alpha) * (temperature * temperature);
    }

    /// <summary>Optimises p_t from <paramref name="initialLargePrompt"/> to match <paramref name="smallPrompt"/>'s behaviour on <paramref name="publicTexts"/>.</summary>
    public TransferResult Run(PublicTexts publicTexts, Tensor smallPrompt, Tensor initialLargePrompt,
        IProgress<TransferProgress>? progress = null, CancellationToken cancel = default)
    {
        if (!(options.Alpha >= 0 && options.Alpha <= 1)) throw new ArgumentException($"alpha must lie in [0,1], got {options.Alpha}");
        if (!(options.Temperature > 0)) throw new ArgumentException($"temperature must be positive, got {options.Temperature}");
        large.Model.Freeze();
        small.Model.Freeze();
        var texts = publicTexts.Texts;
        Tensor smallPrompted, smallPlain, largePlain;
        using (no_grad())
        {
            smallPrompted = Batched(texts, t => small.PredictionLogits(t, new PromptInput(smallPrompt)));
            smallPlain = Batched(texts, t => small.PredictionLogits(t, PromptInput.None));
            largePlain = Batched(texts, t => large.PredictionLogits(t, PromptInput.None));
        }

        var prompt = new TorchSharp.Modules.Parameter(initialLargePrompt.detach().clone());
        using var optimizer = optim.Adam([prompt], options.LearningRate);
        var random = new Random(options.Seed);
        var losses = new List<double>();
        for (int step = 1; step <= options.Steps; step++)
        {
            cancel.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var batch = Enumerable.Range(0, Math.Min(options.BatchSize, texts.Count)).Select(_ => random.Next(texts.Count)).ToArray();
            var index = tensor(batch.Select(i => (long)i).ToArray());
            optimizer.zero_grad();
            var largePrompted = large.PredictionLogits(batch.Select(i => texts[i]).ToList(), new PromptInput(prompt));
            var device = largePrompted.device;
            var loss = Loss(largePrompted, smallPrompted.index_select(0, index).to(device), largePlain.index_select(0, index).to(device),
                smallPlain.index_select(0, index).to(device), options.Alpha, options.Temperature);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
            progress?.Report(new TransferProgress(step, options.Steps, losses[^1]));
        }
        return new TransferResult(prompt.detach(), losses);
    }

    Tensor Batched(IReadOnlyList<string> texts, Func<IReadOnlyList<string>, Tensor> logits)
    {
        var parts = new List<Tensor>();
        for (int start = 0; start < texts.Count; start += options.BatchSize)
            parts.Add(logits(texts.Skip(start).Take(options.BatchSize).ToList()).cpu());
        return cat(parts, 0);
    }
}
