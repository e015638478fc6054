using System.Diagnostics;
using FederatedPrompts.Core.Federation;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Post.Privacy;
using FederatedPrompts.Post.Tuning;
using static TorchSharp.torch;

namespace FederatedPrompts.Client.Work;

/// <summary>
/// POST on the client: tune the global soft prompt on the distilled model with the private examples, with DP-SGD
/// when the run asks for it. σ is calibrated so that all the run's rounds together spend at most the run's ε
/// (q = batch/N, the same steps every round); the ledger composes what was really spent.
/// </summary>
/// <param name="metricExamples">Local examples scored for the accuracy before/after metrics (all when fewer).</param>
public sealed class SoftLocalWork(TaskDataset privateData, IModelLoader? models = null, int metricExamples = 200) : ILocalWork
{
    public PromptMode Mode => PromptMode.Soft;
    public int ExampleCount => privateData.Count;
    public bool UsesModel => true;

    public ILocalRun Open(LocalRunContext run) => new Run(RunTask.Open(run, privateData, models ?? OwnModels.Instance), run.Ledger, metricExamples);

    sealed class Run(RunTask task, PrivacyLedger ledger, int metricExamples) : ILocalRun
    {
        public LocalUpdate Train(RoundAssignment round, CancellationToken cancel)
        {
            var watch = Stopwatch.StartNew();
            var work = (SoftWorkSettings)round.Work;
            var global = work.GlobalPrompt;
            string identity = ModelIdentity.Of(task.Model);
            if (global.ModelIdentity != identity || global.HiddenSize != task.Model.HiddenSize)
                throw new InvalidDataException($"the global prompt is for model {global.ModelIdentity} ({global.HiddenSize} wide), not the downloaded {identity}");
            var data = task.PrivateData;
            var labelIndex = task.Classifier.Labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i);
            var examples = data.Examples.Select(e => (e.Text, labelIndex[e.Label])).ToList();
            var options = new TuneOptions
            {
                Epochs = work.Epochs, BatchSize = work.BatchSize, LearningRate = work.LearningRate, Seed = round.Seed, Optimizer = work.Optimizer,
            };

            DpSpend? privacy = null;
            if (work.Dp is { } dp)
            {
                double delta = dp.Delta ?? 1.0 / data.Count;
                double q = SoftPromptTuner.DpSampleRate(options, data.Count);
                int steps = SoftPromptTuner.DpSteps(options, data.Count);
                double sigma = PrivacyAccountants.NoiseForEpsilon(dp.Accountant, dp.Epsilon, delta, q, steps * round.TotalRounds);
                var entry = new LedgerEntry(round.Round, q, sigma, steps, delta, dp.Accountant);
                double total = ledger.Epsilon(delta, entry);
                if (total > dp.Epsilon * (1 + 1e-6))
                    throw new InvalidOperationException($"training round {round.Round} would bring ε to {total:G4}, over the run's budget of {dp.Epsilon}");
                ledger.Record(entry);
                options = options with { ClipNorm = dp.ClipNorm, NoiseMultiplier = sigma };
                privacy = new DpSpend(dp.ClipNorm, sigma, q, steps, delta, EpsilonRound: PrivacyAccountants.Epsilon(dp.Accountant, q, sigma, steps, delta), EpsilonTotal: total);
            }

            using var scope = NewDisposeScope();
            var start = global.ToTensor(task.Model);
            var sample = task.MetricSample(metricExamples, round.Seed);
            double before = task.Classifier.Evaluate(sample, new PromptInput(start)).Accuracy;
            var result = new SoftPromptTuner(task.Model, task.Tokenizer, task.Classifier, options).TuneFrom(start, examples, cancel: cancel);
            double after = task.Classifier.Evaluate(sample, new PromptInput(result.Prompt)).Accuracy;
            double finalLoss = result.Losses.Where(double.IsFinite).TakeLast(10).DefaultIfEmpty(0).Average();   // DP rounds of only empty batches have no loss: 0
            var metrics = new LocalWorkMetrics(before, after, finalLoss, result.Steps, Queries: 0, TokensSent: 0, watch.Elapsed.TotalSeconds);
            return new SoftUpdate(result.Prompt.ToSoftPrompt(identity), metrics, privacy);
        }

        public void Dispose() => task.Dispose();
    }
}
