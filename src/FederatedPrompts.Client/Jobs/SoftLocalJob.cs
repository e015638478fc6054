using System.Diagnostics;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Post.Privacy;
using FederatedPrompts.Post.Tuning;
using FederatedPrompts.Protocol;
using FederatedPrompts.Protocol.V1;
using static TorchSharp.torch;

namespace FederatedPrompts.Client.Jobs;

/// <summary>The result of one round's local work, ready to upload.</summary>
public sealed record LocalResult(PromptValue Prompt, LocalMetrics Metrics, PrivacySpend? Privacy);

/// <summary>
/// POST on the client: tune the global soft prompt on the distilled model with the private examples, with DP-SGD
/// when the run asks for it. σ is calibrated so that all the run's rounds together spend at most the run's ε
/// (q = batch/N, the same steps every round); the ledger composes what was really spent.
/// </summary>
public sealed class SoftLocalJob(RunTask task, int metricExamples)
{
    public LocalResult Run(RoundTaskReply round, PrivacyLedger ledger, IProgress<TuneProgress>? progress, CancellationToken cancel)
    {
        var watch = Stopwatch.StartNew();
        var work = round.Work.Soft;
        var global = PromptMessages.ToSoftPrompt(round.GlobalPrompt);
        string identity = ModelIdentity.Of(task.Model);
        if (global.ModelIdentity != identity || global.HiddenSize != task.Model.HiddenSize)
            throw new InvalidDataException($"the global prompt is for model {global.ModelIdentity} ({global.HiddenSize} wide), not the downloaded {identity}");
        var data = task.PrivateData;
        var labelIndex = task.Classifier.Labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i);
        var examples = data.Examples.Select(e => (e.Text, labelIndex[e.Label])).ToList();
        var options = new TuneOptions
        {
            Epochs = work.Epochs, BatchSize = work.BatchSize, LearningRate = work.LearningRate, Seed = round.Work.Seed,
            Optimizer = TuneOptions.ParseOptimizer(work.Optimizer),
        };

        PrivacySpend? privacy = null;
        if (work.Dp is { } dp)
        {
            double delta = dp.Delta > 0 ? dp.Delta : 1.0 / data.Count;
            double q = SoftPromptTuner.DpSampleRate(options, data.Count);
            int steps = SoftPromptTuner.DpSteps(options, data.Count);
            double sigma = RdpAccountant.NoiseForEpsilon(dp.Epsilon, delta, q, steps * round.TotalRounds);
            var entry = new LedgerEntry(round.Round, q, sigma, steps, delta);
            double total = ledger.Epsilon(delta, entry);
            if (total > dp.Epsilon * (1 + 1e-6))
                throw new InvalidOperationException($"training round {round.Round} would bring ε to {total:G4}, over the run's budget of {dp.Epsilon}");
            ledger.Record(entry);
            options = options with { ClipNorm = dp.ClipNorm, NoiseMultiplier = sigma };
            privacy = new PrivacySpend
            {
                ClipNorm = dp.ClipNorm, NoiseMultiplier = sigma, SampleRate = q, Steps = steps, Delta = delta,
                EpsilonRound = RdpAccountant.Epsilon(q, sigma, steps, delta).Epsilon, EpsilonTotal = total,
            };
        }

        using var scope = NewDisposeScope();
        var start = global.ToTensor(task.Model);
        var sample = task.MetricSample(metricExamples, round.Work.Seed);
        double before = task.Classifier.Evaluate(sample, new PromptInput(start)).Accuracy;
        var result = new SoftPromptTuner(task.Model, task.Tokenizer, task.Classifier, options).TuneFrom(start, examples, progress, cancel);
        double after = task.Classifier.Evaluate(sample, new PromptInput(result.Prompt)).Accuracy;
        var tuned = result.Prompt.ToSoftPrompt(identity);
        var metrics = new LocalMetrics
        {
            AccuracyBefore = before, AccuracyAfter = after, FinalLoss = result.Losses.Where(double.IsFinite).TakeLast(10).DefaultIfEmpty(double.NaN).Average(),
            Steps = result.Steps, Seconds = watch.Elapsed.TotalSeconds,
        };
        if (!double.IsFinite(metrics.FinalLoss)) metrics.FinalLoss = 0;   // DP rounds of only empty batches have no loss to report
        return new LocalResult(PromptMessages.ToMessage(tuned), metrics, privacy);
    }
}
