using System.CommandLine;
using System.Text.Json;
using FederatedPrompts.Core;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Post.Privacy;
using FederatedPrompts.Post.Tuning;
using Spectre.Console;

namespace FederatedPrompts.Cli.Commands;

/// <summary>
/// <c>fedprompt tune --model DIR --task train.jsonl --out prompt.json</c>: soft-prompt tuning on a (small) model,
/// optionally with DP-SGD (--clip C --noise σ); writes the prompt as JSON and reports accuracy on --eval-task.
/// The prompt starts from the preset's init text unless --init-text or --random-init says otherwise.
/// </summary>
public static class TuneCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model("Model to tune on (the distilled small model in POST)");
        var task = new TaskSetup();
        var output = new Option<string>("--out") { Description = "Soft prompt JSON to write", Required = true };
        var length = new Option<int>("--prompt-length") { Description = "Prompt length (vectors)", DefaultValueFactory = _ => 100 };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training file", DefaultValueFactory = _ => 5 };
        var batch = new Option<int>("--batch-size") { Description = "Batch size (expected size under DP: q = batch/N)", DefaultValueFactory = _ => 16 };
        var optimizer = new Option<string?>("--optimizer") { Description = "sgd or adam (default: sgd with DP, as the official DP path; adam without)" }
            .AcceptOnlyFromAmong("sgd", "adam");
        var lr = new Option<double?>("--lr") { Description = "Learning rate (default: 1e-3 for adam, 1.0 for sgd)" };
        var start = new SoftPromptStart();
        var clip = new Option<double?>("--clip") { Description = "DP-SGD: per-example gradient clip norm C (enables DP)" };
        var noise = new Option<double?>("--noise") { Description = "DP-SGD: noise multiplier σ (noise N(0, σ²C²) on the clipped sum); or give --epsilon" };
        var epsilon = new Option<double?>("--epsilon") { Description = "DP-SGD: target ε; σ is calibrated by --accountant for this run's sample rate and steps" };
        var accountant = CommonOptions.Accountant();
        var delta = new Option<double?>("--delta") { Description = "DP-SGD: δ (default 1/N, N = training examples)" };
        var evalTask = new Option<string?>("--eval-task") { Description = "Labeled file to report accuracy on after tuning (same template and label words)" };
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var json = CommonOptions.Json();
        var command = new Command("tune", "Tune a soft prompt on a model (optionally with DP-SGD)")
            { model, output, length, epochs, batch, optimizer, lr, clip, noise, epsilon, accountant, delta, evalTask, seed, device, json };
        foreach (var option in task.Options.Concat(start.Options)) command.Add(option);
        command.SetAction(parse =>
        {
            var (taskData, template, verbalizer) = task.Resolve(parse);
            var data = taskData!;   // --task is required here
            data.RequireAtLeastTwoClasses();
            bool dp = parse.GetValue(clip) is not null;
            if (dp == (parse.GetValue(noise) is null && parse.GetValue(epsilon) is null) || (parse.GetValue(noise) is not null && parse.GetValue(epsilon) is not null))
                throw new UserInputException("DP-SGD needs --clip and exactly one of --noise or --epsilon; without --clip neither is used");
            double dpDelta = parse.GetValue(delta) ?? 1.0 / data.Examples.Count;
            var accounting = PrivacyAccountants.Parse(parse.GetValue(accountant));
            string dir = parse.GetValue(model)!;
            using var lm = HfCheckpoint.Load(dir, CommonOptions.ResolveDevice(parse.GetValue(device)!));
            var tokenizer = TokenizerLoader.FromFolder(dir);
            var classifier = new PromptedClassifier(lm, tokenizer, data.Labels, data.Labels.Select(verbalizer.WordsFor).ToList(), template.Render);
            LabelWordWarnings.Print(classifier);
            var options = new TuneOptions
            {
                PromptLength = parse.GetValue(length), Epochs = parse.GetValue(epochs), BatchSize = parse.GetValue(batch),
                Optimizer = parse.GetValue(optimizer) is { } name ? TuneOptions.ParseOptimizer(name) : null, LearningRate = parse.GetValue(lr),
                InitText = start.Resolve(parse, task.PresetOf(parse)?.InitText), Seed = parse.GetValue(seed),
                ClipNorm = parse.GetValue(clip), NoiseMultiplier = parse.GetValue(noise),
            };
            if (dp)
            {
                PrivacyParameters.RequireDelta(dpDelta, "--delta");
                if (parse.GetValue(epsilon) is double target)
                    options = SoftPromptTuner.WithNoiseForEpsilon(options, data.Examples.Count, PrivacyParameters.RequireEpsilon(target, "--epsilon"), dpDelta, accounting);
            }
            var labelIndex = data.Labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i);
            var examples = data.Examples.Select(e => (e.Text, labelIndex[e.Label])).ToList();
            var tuner = new SoftPromptTuner(lm, tokenizer, classifier, options);

            var result = ProgressViews.Bar("tuning", parse.GetValue(json), report =>
                tuner.Tune(examples, new SyncProgress<TuneProgress>(p => report(p.Step, p.TotalSteps, $"tuning, loss {p.Loss:F3}"))));
            result.Prompt.ToSoftPrompt(ModelIdentity.Of(lm)).Save(parse.GetValue(output)!);

            double? accuracy = null;
            if (parse.GetValue(evalTask) is { } evalPath)
            {
                var test = Core.Tasks.TaskFile.Load(evalPath);
                accuracy = classifier.Evaluate(test.Examples.Select(e => (e.Text, e.Label)).ToList(), new PromptInput(result.Prompt)).Accuracy;
            }
            var summary = new
            {
                prompt = parse.GetValue(output), steps = result.Steps, final_loss = result.Losses.TakeLast(10).Average(),
                optimizer = result.Optimizer.ToString().ToLowerInvariant(), learning_rate = result.LearningRate, init_text = options.InitText,
                dp = result.Dp is { } settings ? new
                {
                    clip = settings.ClipNorm, noise_multiplier = settings.NoiseMultiplier, sample_rate = settings.SampleRate, steps = result.Steps,
                    delta = dpDelta, epsilon = PrivacyAccountants.Epsilon(accounting, settings.SampleRate, settings.NoiseMultiplier, result.Steps, dpDelta),
                    accountant = PrivacyAccountants.Name(accounting),
                } : null,
                eval_accuracy = accuracy,
            };
            if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(summary));
            else
            {
                AnsiConsole.MarkupLine($"wrote [blue]{Markup.Escape(summary.prompt!)}[/] after {result.Steps} steps of {summary.optimizer} at lr {result.LearningRate:G3} " +
                                       $"from {Markup.Escape(SoftPromptStart.Describe(options.InitText))} (loss {summary.final_loss:F3})");
                if (summary.dp is { } spent)
                    AnsiConsole.MarkupLine($"DP-SGD: C = {spent.clip}, σ = {spent.noise_multiplier:F3}, q = {spent.sample_rate:F4}, {spent.steps} steps → (ε = {spent.epsilon:F2}, δ = {spent.delta:G3}; {spent.accountant} accountant)");
                if (accuracy is double a) AnsiConsole.MarkupLine($"accuracy on {Markup.Escape(parse.GetValue(evalTask)!)}: [bold]{a:P2}[/]");
            }
            return 0;
        });
        return command;
    }
}
