using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Post.Privacy;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FederatedPrompts.Post.Tuning;

/// <summary>The optimizer that moves the prompt.</summary>
public enum PromptOptimizer
{
    /// <summary>Adam (Kingma and Ba 2015), the official code's choice without DP.</summary>
    Adam,
    /// <summary>Plain SGD without momentum: prompt ← prompt − lr·gradient. The official DP path requires it (Opacus' DP-SGD).</summary>
    Sgd,
}

public sealed record TuneOptions
{
    public int PromptLength { get; init; } = 100;
    /// <summary>Null: <see cref="DefaultLearningRate"/> of the optimizer in use.</summary>
    public double? LearningRate { get; init; }
    /// <summary>Null: the official choice, <see cref="PromptOptimizer.Sgd"/> under DP and <see cref="PromptOptimizer.Adam"/> without.</summary>
    public PromptOptimizer? Optimizer { get; init; }
    public int Epochs { get; init; } = 5;
    /// <summary>Minibatch size; under DP the expected Poisson batch size, so q = BatchSize / N.</summary>
    public int BatchSize { get; init; } = 16;
    public int Seed { get; init; } = 1;
    /// <summary>Initialise the prompt from this text's token embeddings (repeated to the length); null: random vocabulary tokens.</summary>
    public string? InitText { get; init; }
    /// <summary>DP-SGD clip norm and noise multiplier; the sample rate is derived from BatchSize / N.</summary>
    public double? ClipNorm { get; init; }
    public double? NoiseMultiplier { get; init; }

    public PromptOptimizer OptimizerInUse => Optimizer ?? (ClipNorm is null ? PromptOptimizer.Adam : PromptOptimizer.Sgd);
    public double LearningRateInUse => LearningRate ?? DefaultLearningRate(OptimizerInUse);

    /// <summary>
    /// Adam 1e-3 (the official prompt-tuning scripts use 5e-4 to 1e-3); SGD 1.0: a DP step moves the prompt by lr times an average
    /// of gradients clipped to norm C, plus noise, so SGD needs a step near 1 to move prompts of embedding scale at all
    /// (bench/README.md, "POST under DP: SGD or Adam", has the sweep).
    /// </summary>
    public static double DefaultLearningRate(PromptOptimizer optimizer) => optimizer == PromptOptimizer.Sgd ? 1.0 : 1e-3;

    /// <summary>Parses "sgd" or "adam" (any case).</summary>
    public static PromptOptimizer ParseOptimizer(string name) => name.ToLowerInvariant() switch
    {
        "sgd" => PromptOptimizer.Sgd,
        "adam" => PromptOptimizer.Adam,
        _ => throw new ArgumentException($"optimizer must be sgd or adam, not \"{name}\""),
    };
}

public sealed record TuneProgress(int Step, int TotalSteps, double Loss);

public sealed record TuneResult(Tensor Prompt, int Steps, IReadOnlyList<double> Losses, DpSettings? Dp, PromptOptimizer Optimizer, double LearningRate);

/// <summary>
/// Prompt tuning (Lester et al. 2021) on a frozen causal LM: only k prompt vectors are trained, with Adam or plain SGD, on
/// the cross-entropy of the verbalizer's class scores. With DP settings every step is one DP-SGD step on the prompt
/// (see <see cref="DpSgd"/>): per-example gradients come from one backward pass over per-example copies of the
/// prompt, since example b's loss depends only on copy b; the optimizer then takes the privatized gradient as its
/// gradient (with SGD, prompt ← prompt − lr·privatized gradient, Abadi et al.'s update).
/// </summary>
public sealed class SoftPromptTuner(CausalLM model, ITextTokenizer tokenizer, PromptedClassifier classifier, TuneOptions options)
{
    public TuneResult Tune(IReadOnlyList<(string Text, int Label)> examples, IProgress<TuneProgress>? progress = null, CancellationToken cancel = default) =>
        TuneFrom(SoftPromptInit.Embed(model, tokenizer, options.PromptLength, options.InitText, options.Seed), examples, progress, cancel);

    /// <summary>Tunes from a given prompt [k, H] instead of a fresh one (a federated round starts from the global prompt); k may differ from PromptLength.</summary>
    public TuneResult TuneFrom(Tensor start, IReadOnlyList<(string Text, int Label)> examples, IProgress<TuneProgress>? progress = null, CancellationToken cancel = default)
    {
        if (examples.Count == 0) throw new ArgumentException("no training examples");
        if (options.BatchSize < 1 || options.Epochs < 1) throw new ArgumentException("batch size and epochs must be at least 1");
        if (start.dim() != 2 || start.shape[1] != model.HiddenSize)
            throw new ArgumentException($"a starting prompt must be [length, {model.HiddenSize}], not [{string.Join(", ", start.shape)}]");
        model.Freeze();   // only the prompt learns

        var prompt = new TorchSharp.Modules.Parameter(start.detach().clone().to(model.parameters().First().device));
        var optimizerKind = options.OptimizerInUse;
        double learningRate = options.LearningRateInUse;
        if (!(learningRate >= 0) || double.IsInfinity(learningRate)) throw new ArgumentException($"learning rate must be non-negative and finite, got {learningRate}");
        using optim.Optimizer optimizer = optimizerKind == PromptOptimizer.Sgd
            ? optim.SGD([prompt], learningRate)
            : optim.Adam([prompt], learningRate);
        var random = new Random(options.Seed);
        DpSettings? dp = options.ClipNorm is double clip
            ? new DpSettings(clip, options.NoiseMultiplier ?? throw new ArgumentException("DP tuning needs a noise multiplier"),
                             DpSampleRate(options, examples.Count))
            : null;
        dp?.Validate();
        var batches = dp is null ? ShuffledBatches(examples.Count, random) : PoissonBatches(examples.Count, dp, random);
        int totalSteps = dp is null ? options.Epochs * (int)Math.Ceiling((double)examples.Count / options.BatchSize) : DpSteps(options, examples.Count);
        using var noise = new Generator((ulong)options.Seed + 1);

        var losses = new List<double>();
        int step = 0;
        foreach (var batch in batches.Take(totalSteps))
        {
            cancel.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var texts = batch.Select(i => examples[i].Text).ToList();
            var labels = tensor(batch.Select(i => (long)examples[i].Label).ToArray(), device: prompt.device);
            double loss = double.NaN;
            if (dp is null)
            {
                var lossTensor = F.cross_entropy(classifier.ClassScores(texts, new PromptInput(prompt)), labels);
                lossTensor.backward();
                loss = lossTensor.item<float>();
            }
            else
            {
                Tensor? perExample = null;
                if (batch.Length > 0)
                {
                    var copies = prompt.detach().unsqueeze(0).repeat(batch.Length, 1, 1).requires_grad_();
                    var lossSum = F.cross_entropy(classifier.ClassScores(texts, new PromptInput(copies)), labels, reduction: nn.Reduction.Sum);
                    lossSum.backward();
                    perExample = copies.grad;
                    loss = lossSum.item<float>() / batch.Length;
                }
                prompt.grad = DpSgd.PrivatizedGradient(perExample, prompt, dp, dp.SampleRate * examples.Count, noise).MoveToOuterDisposeScope();
            }
            optimizer.step();
            losses.Add(loss);
            step++;
            progress?.Report(new TuneProgress(step, totalSteps, loss));
        }
        return new TuneResult(prompt.detach(), step, losses, dp, optimizerKind, learningRate);
    }

    /// <summary>DP steps: Epochs passes in expectation, i.e. Epochs / q steps.</summary>
    public static int DpSteps(TuneOptions options, int exampleCount) =>
        (int)Math.Ceiling(options.Epochs * (double)exampleCount / Math.Min(options.BatchSize, exampleCount));

    /// <summary>Poisson sampling rate q = BatchSize / N (at most 1) of a DP run on <paramref name="exampleCount"/> examples.</summary>
    public static double DpSampleRate(TuneOptions options, int exampleCount) => Math.Min(1.0, (double)options.BatchSize / exampleCount);

    /// <summary>
    /// <paramref name="options"/> (with a clip norm) given the noise multiplier σ that <paramref name="accountant"/> calibrates
    /// so that this run (q = BatchSize/N, <see cref="DpSteps"/> steps) spends at most ε at δ.
    /// </summary>
    public static TuneOptions WithNoiseForEpsilon(TuneOptions options, int exampleCount, double epsilon, double delta, AccountantKind accountant)
    {
        if (options.ClipNorm is null) throw new ArgumentException("calibrating DP noise needs a clip norm");
        return options with
        {
            NoiseMultiplier = PrivacyAccountants.NoiseForEpsilon(accountant, epsilon, delta, DpSampleRate(options, exampleCount), DpSteps(options, exampleCount)),
        };
    }

    IEnumerable<int[]> ShuffledBatches(int n, Random random)
    {
        while (true)
        {
            var order = Enumerable.Range(0, n).ToArray();
            random.Shuffle(order);
            for (int start = 0; start < n; start += options.BatchSize)
                yield return order[start..Math.Min(n, start + options.BatchSize)];
        }
    }

    static IEnumerable<int[]> PoissonBatches(int n, DpSettings dp, Random random)
    {
        while (true) yield return DpSgd.PoissonSample(n, dp.SampleRate, random);
    }
}
