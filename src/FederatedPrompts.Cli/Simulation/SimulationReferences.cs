using FederatedPrompts.Coordinator.Models;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Discrete.BlackBox;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Post.Tuning;
using static TorchSharp.torch;

namespace FederatedPrompts.Cli.Simulation;

/// <summary>
/// What the federation's accuracies are measured against, on the coordinator's held-out set. Only a simulation can
/// compute <see cref="FullPtLarge"/>: it tunes a prompt on the large model with every client's private data pooled, which
/// no real coordinator ever sees. Soft mode: the small model without a prompt (what the rounds start from, the curve's
/// floor), the large model without one, and full prompt tuning on the large model (the ceiling POST's transfer is
/// measured against). Discrete mode: the black box (discrete.black_box: the large model or the sentence encoder) without
/// a prompt and with the manual prompt the search starts from.
/// </summary>
public sealed record SimulationReferences(double ZeroShotSmall, double ZeroShotLarge, double? FullPtLarge, BlackBoxReferences? BlackBox)
{
    public static SimulationReferences Compute(RunConfig config, TaskDataset pooledPrivate)
    {
        var heldOut = TaskFile.Load(config.EvalTask).Examples.Select(e => (e.Text, e.Label)).ToList();
        var (template, verbalizer) = RunTask.TemplateOf(config);
        var labels = verbalizer.Labels;
        using var small = HfCheckpoint.Load(config.SmallModel);
        using var large = HfCheckpoint.Load(config.LargeModel);
        // The coordinator has already refused a pair whose tokenizers differ, so one serves both models.
        var tokenizer = TokenizerLoader.FromFolder(config.LargeModel);
        PromptedClassifier Classifier(CausalLM model) => new(model, tokenizer, labels, labels.Select(verbalizer.WordsFor).ToList(), template.Render);
        var smallClassifier = Classifier(small);
        var largeClassifier = Classifier(large);
        double zeroShotSmall = smallClassifier.Evaluate(heldOut, PromptInput.None).Accuracy;
        double zeroShotLarge = largeClassifier.Evaluate(heldOut, PromptInput.None).Accuracy;
        BlackBoxReferences? blackBox = null;
        if (config.Has(PromptMode.Discrete))
        {
            var box = BlackBoxes.Create(config.Discrete.BlackBox, largeClassifier, tokenizer, RunTask.DescriptionsOf(config, template, verbalizer));
            blackBox = new BlackBoxReferences(config.Discrete.BlackBox, box.Evaluate(labels, heldOut, []).Accuracy,
                box.Evaluate(labels, heldOut, tokenizer.Encode(config.Discrete.InitialPrompt)).Accuracy);
        }
        if (!config.Has(PromptMode.Soft)) return new(zeroShotSmall, zeroShotLarge, null, blackBox);

        // The clients' prompt length, start and Adam learning rate (the run's Adam default where they tune with SGD under DP), without DP (the
        // paper's full-PT column), for as many passes over the pooled data as one client makes over its own in the whole run.
        var soft = config.Soft;
        var options = new TuneOptions
        {
            PromptLength = soft.PromptLength, Epochs = soft.Epochs * config.Rounds, BatchSize = soft.BatchSize, Seed = config.Seed,
            Optimizer = PromptOptimizer.Adam, LearningRate = soft.OptimizerInUse() == PromptOptimizer.Adam ? soft.LearningRateInUse() : SoftRunConfig.DefaultAdamLearningRate,
            InitText = config.InitTextInUse(),
        };
        var labelIndex = labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i);
        var examples = pooledPrivate.Examples.Select(e => (e.Text, labelIndex[e.Label])).ToList();
        using var scope = NewDisposeScope();
        var tuned = new SoftPromptTuner(large, tokenizer, largeClassifier, options).Tune(examples);
        double fullPt = largeClassifier.Evaluate(heldOut, new PromptInput(tuned.Prompt)).Accuracy;
        return new(zeroShotSmall, zeroShotLarge, fullPt, blackBox);
    }
}

/// <summary>The discrete mode's black box (<see cref="BlackBoxes"/>) on the held-out set: without a prompt, and with the manual prompt the search starts from.</summary>
public sealed record BlackBoxReferences(string Name, double ZeroShot, double ManualPrompt);
