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
    /// <summary>
    /// Measure accuracy on the public validation set every this many steps (and at the start and the last step) and keep the
    /// best prompt, as the official code does every `interval` steps; 0: no validation, the last prompt is the result.
    /// </summary>
    public int ValidateEvery { get; init; }
}

public sealed record TransferProgress(int Step, int TotalSteps, double Loss);

/// <summary>Accuracy of the large model with p_t after <paramref name="Step"/> steps (0: the initial prompt) on the public validation set.</summary>
public sealed record ValidationPoint(int Step, double Accuracy);

/// <summary>
/// The transfer's outcome. <paramref name="Best"/> is the prompt of highest public validation accuracy (the earliest of equals)
/// and <paramref name="Last"/> the prompt after the last step; without validation both are the last. <paramref name="Losses"/>
/// are the training batches'; <paramref name="InitialLoss"/> and <paramref name="FinalLoss"/> are the loss of the initial and
/// of the last prompt averaged over the whole public set, so another implementation can check them.
/// </summary>
public sealed record TransferResult(Tensor Best, Tensor Last, int BestStep, IReadOnlyList<ValidationPoint> Validation,
    IReadOnlyList<double> Losses, double InitialLoss, double FinalLoss);

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

    /// <summary>
    /// Optimises p_t from <paramref name="initialLargePrompt"/> to match <paramref name="smallPrompt"/>'s behaviour on <paramref name="publicTexts"/>.
    /// With <see cref="TransferOptions.ValidateEvery"/> &gt; 0, <paramref name="publicValidation"/> (labeled examples the operator declares public,
    /// never a client's private data or the test set) chooses the best prompt.
    /// </summary>
    public TransferResult Run(PublicTexts publicTexts, Tensor smallPrompt, Tensor initialLargePrompt,
        IReadOnlyList<(string Text, string Label)>? publicValidation = null,
        IProgress<TransferProgress>? progress = null, CancellationToken cancel = default)
    {
        if (!(options.Alpha >= 0 && options.Alpha <= 1)) throw new ArgumentException($"alpha must lie in [0,1], got {options.Alpha}");
        if (!(options.Temperature > 0)) throw new ArgumentException($"temperature must be positive, got {options.Temperature}");
        if (options.Steps < 1 || options.BatchSize < 1) throw new ArgumentException($"steps and batch size must be at least 1, got {options.Steps} and {options.BatchSize}");
        if (options.ValidateEvery < 0) throw new ArgumentException($"validate-every must not be negative, got {options.ValidateEvery}");
        if (options.ValidateEvery > 0 && (publicValidation is null || publicValidation.Count == 0))
            throw new ArgumentException("validating every few steps needs a public labeled validation set");
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
        double initialLoss = WholeSetLoss(texts, prompt, smallPrompted, smallPlain, largePlain);
        var validation = new List<ValidationPoint>();
        Tensor? best = null;
        int bestStep = 0;
        void Validate(int step)
        {
            double accuracy = large.Evaluate(publicValidation!, new PromptInput(prompt.detach())).Accuracy;
            validation.Add(new ValidationPoint(step, accuracy));
            // Strictly better replaces: among equals the earliest, least-moved prompt stays (the official code's acc > best_acc).
            if (validation.Count == 1 || accuracy > validation.Where(v => v.Step != step).Max(v => v.Accuracy))
            {
                best?.Dispose();
                best = prompt.detach().clone().DetachFromDisposeScope();   // outlives the step's dispose scope
                bestStep = step;
            }
        }
        if (options.ValidateEvery > 0) Validate(0);

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
            if (options.ValidateEvery > 0 && (step % options.ValidateEvery == 0 || step == options.Steps)) Validate(step);
        }
        var last = prompt.detach();
        double finalLoss = WholeSetLoss(texts, last, smallPrompted, smallPlain, largePlain);
        if (best is null) (best, bestStep) = (last, options.Steps);   // no validation: the last prompt is the result
        return new TransferResult(best, last, bestStep, validation, losses, initialLoss, finalLoss);
    }

    /// <summary>The transfer loss of <paramref name="largePrompt"/> averaged over every public text (batches weighted by their size).</summary>
    double WholeSetLoss(IReadOnlyList<string> texts, Tensor largePrompt, Tensor smallPrompted, Tensor smallPlain, Tensor largePlain)
    {
        using var noGrad = no_grad();
        double total = 0;
        for (int start = 0; start < texts.Count; start += options.BatchSize)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(options.BatchSize, texts.Count - start);
            var largePrompted = large.PredictionLogits(texts.Skip(start).Take(count).ToList(), new PromptInput(largePrompt.detach()));
            var device = largePrompted.device;
            Tensor Rows(Tensor all) => all.narrow(0, start, count).to(device);
            total += count * Loss(largePrompted, Rows(smallPrompted), Rows(largePlain), Rows(smallPlain), options.Alpha, options.Temperature).item<float>();
        }
        return total / texts.Count;
    }

    Tensor Batched(IReadOnlyList<string> texts, Func<IReadOnlyList<string>, Tensor> logits)
    {
        var parts = new List<Tensor>();
        for (int start = 0; start < texts.Count; start += options.BatchSize)
            parts.Add(logits(texts.Skip(start).Take(options.BatchSize).ToList()).cpu());
        return cat(parts, 0);
    }
}
