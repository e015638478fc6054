using System.Diagnostics;
using FederatedPrompts.Core;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using static TorchSharp.torch;

namespace FederatedPrompts.Cli.Bench;

/// <summary>
/// The cost of a <see cref="Pretrainer"/> step against a minimal TorchSharp training loop on a model of the same
/// configuration (one fixed batch, forward, cross-entropy, backward, AdamW; nothing else), measured in alternating rounds
/// (Pretrainer, minimal, Pretrainer, minimal, …) so that the machine's noise hits both. The Pretrainer is timed from its
/// own progress reports, so a round includes everything its loop does between them: reading windows from the token file,
/// the learning-rate schedule, clipping, the loss read back, held-out evaluation and checkpoints at their configured steps.
/// </summary>
public static class PretrainStepCost
{
    public sealed record Result(int WarmupSteps, int Rounds, int StepsPerRound, double PretrainerMsPerStep, double MinimalMsPerStep,
        IReadOnlyList<double> PretrainerRoundMs, IReadOnlyList<double> MinimalRoundMs)
    {
        /// <summary>Pretrainer time / minimal-loop time over all measured steps (both ran the same number).</summary>
        public double Ratio => PretrainerMsPerStep / MinimalMsPerStep;

        /// <summary>The median of the rounds' own ratios: less moved by one round that a neighbouring job slowed down.</summary>
        public double MedianRoundRatio
        {
            get
            {
                var ratios = PretrainerRoundMs.Zip(MinimalRoundMs, (a, b) => a / b).Order().ToList();
                return ratios.Count % 2 == 1 ? ratios[ratios.Count / 2] : (ratios[ratios.Count / 2 - 1] + ratios[ratios.Count / 2]) / 2;
            }
        }
    }

    /// <summary>
    /// Both models start from the same seeded weights; the first <paramref name="warmupSteps"/> steps of each are not timed.
    /// <paramref name="scratchDir"/> receives the Pretrainer's checkpoint.
    /// </summary>
    public static Result Measure(TransformerConfig config, ITextTokenizer tokenizer, TokenizedCorpus tokens, PretrainOptions options,
        int warmupSteps, int rounds, int stepsPerRound, string scratchDir)
    {
        using var product = HfCheckpoint.Create(config, options.Seed);
        using var minimal = HfCheckpoint.Create(config, options.Seed);
        using var minimalLoop = new MinimalLoop(minimal, tokens.Train, options);

        var pretrainerMs = new List<double>();
        var minimalMs = new List<double>();
        var lap = new Stopwatch();
        void AfterStep(PretrainProgress p)
        {
            int measured = p.Step - warmupSteps;
            if (measured < 0) return;
            if (measured == 0)
            {
                minimalLoop.Run(warmupSteps);
            }
            else if (measured % stepsPerRound == 0)
            {
                pretrainerMs.Add(lap.Elapsed.TotalMilliseconds);
                minimalMs.Add(minimalLoop.Run(stepsPerRound));
            }
            else return;
            lap.Restart();
        }

        Directory.CreateDirectory(scratchDir);
        new Pretrainer(product, options with { Steps = warmupSteps + rounds * stepsPerRound }).Train(tokens.Train, tokens.HeldOut, new PretrainState(), scratchDir,
            dir => { HfCheckpoint.Save(product, dir); TokenizerFiles.Save(tokenizer, null, dir); }, new SyncProgress<PretrainProgress>(AfterStep));
        int steps = rounds * stepsPerRound;
        return new Result(warmupSteps, rounds, stepsPerRound, pretrainerMs.Sum() / steps, minimalMs.Sum() / steps, pretrainerMs, minimalMs);
    }

    /// <summary>The baseline: what any TorchSharp training loop of this model must do per step, on one batch read once.</summary>
    sealed class MinimalLoop : IDisposable
    {
        readonly CausalLM _model;
        readonly Tensor _inputs, _targets;
        readonly TorchSharp.Modules.AdamW _optimizer;

        public MinimalLoop(CausalLM model, TokenStream train, PretrainOptions options)
        {
            _model = model;
            (_inputs, _targets) = TokenWindows.TrainBatch(train, options, 0, model.parameters().First().device);
            _optimizer = optim.AdamW(model.parameters(), options.LearningRate, weight_decay: options.WeightDecay);
        }

        /// <summary>Runs <paramref name="steps"/> steps; their wall-clock milliseconds.</summary>
        public double Run(int steps)
        {
            _model.train();
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++)
            {
                using var scope = NewDisposeScope();
                _optimizer.zero_grad();
                var logits = _model.Logits(_inputs);
                nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), _targets.reshape(-1)).backward();
                _optimizer.step();
            }
            return clock.Elapsed.TotalMilliseconds;
        }

        public void Dispose()
        {
            _optimizer.Dispose();
            _inputs.Dispose();
            _targets.Dispose();
        }
    }
}
