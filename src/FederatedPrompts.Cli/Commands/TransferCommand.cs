using System.CommandLine;
using System.Text.Json;
using FederatedPrompts.Core;
using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Post.Transfer;
using FederatedPrompts.Post.Tuning;
using Spectre.Console;
using static TorchSharp.torch;

namespace FederatedPrompts.Cli.Commands;

/// <summary>
/// <c>fedprompt transfer --large DIR --small DIR --prompt p_s.json --public FILE --out p_t.json</c>: POST transfer of a
/// soft prompt from the small model to the large one on public texts. α is given, or computed by the heuristic from
/// accuracies on a public labeled file (--alpha-task); private data has no way in. With --validate-every N the prompt of best
/// accuracy on a public labeled file is kept, checked every N steps.
/// </summary>
public static class TransferCommand
{
    public static Command Create()
    {
        var large = new Option<string>("--large") { Description = "Large model folder (the prompt's destination)", Required = true };
        var small = new Option<string>("--small") { Description = "Small model folder the prompt was tuned on", Required = true };
        var promptFile = new Option<string>("--prompt") { Description = "Soft prompt p_s tuned on the small model (JSON)", Required = true };
        var publicFile = new Option<string>("--public") { Description = "Public texts (JSONL \"text\" or .txt) to transfer on", Required = true };
        var publicLimit = new Option<int?>("--public-limit") { Description = "Use a seeded sample of at most this many public texts" };
        var output = new Option<string>("--out") { Description = "Transferred prompt p_t to write (JSON)", Required = true };
        var alpha = new Option<double?>("--alpha") { Description = "Weight of the prompt-change term; default: heuristic from --alpha-task" };
        var start = new SoftPromptStart("The text p_t is initialised from, as p_s was (default: the preset's init text)");
        var validateEvery = new Option<int>("--validate-every") { Description = "Every N steps, accuracy of p_t on the public labeled set (--validation, else --alpha-task); the best prompt is written", DefaultValueFactory = _ => 0 };
        var validation = new Option<string?>("--validation") { Description = "Public labeled file for --validate-every (default: the --alpha-task file); never the test set" };
        var steps = new Option<int>("--steps") { Description = "Transfer steps (Adam on the large model's prompt)", DefaultValueFactory = _ => 300 };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate of the transfer", DefaultValueFactory = _ => 1e-3 };
        var batch = new Option<int>("--batch-size") { Description = "Public texts per transfer step", DefaultValueFactory = _ => 16 };
        var temperature = new Option<double>("--temperature") { Description = "Softmax temperature T of both KL terms (the loss is scaled by T², as the official code)", DefaultValueFactory = _ => 2.0 };
        var task = new TaskSetup("--alpha-task", taskRequired: false,
            "Public labeled file for the α heuristic (large model zero-shot vs small model with p_s); its template and label words are the transfer's");
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var json = CommonOptions.Json();
        var command = new Command("transfer", "Transfer a soft prompt from the small model to the large model (POST)")
            { large, small, promptFile, publicFile, publicLimit, output, alpha, steps, lr, batch, temperature, validateEvery, validation, seed, device, json };
        foreach (var option in task.Options.Concat(start.Options)) command.Add(option);
        command.SetAction(parse =>
        {
            var (alphaTask, template, verbalizer) = task.Resolve(parse);
            if (parse.GetValue(alpha) is null && alphaTask is null) throw new UserInputException("give --alpha, or --alpha-task to compute it");
            int every = parse.GetValue(validateEvery);
            if (every < 0) throw new UserInputException($"--validate-every must not be negative, got {every}");
            if (parse.GetValue(validation) is not null && every == 0) throw new UserInputException("--validation is read only with --validate-every N");
            var validationSet = every == 0 ? null
                : parse.GetValue(validation) is { } validationPath ? Core.Tasks.TaskFile.Load(validationPath)
                : alphaTask ?? throw new UserInputException("--validate-every needs a public labeled file: --validation or --alpha-task");
            var computeDevice = CommonOptions.ResolveDevice(parse.GetValue(device)!);
            string largeDir = parse.GetValue(large)!, smallDir = parse.GetValue(small)!;
            using var largeModel = HfCheckpoint.Load(largeDir, computeDevice);
            using var smallModel = HfCheckpoint.Load(smallDir, computeDevice);
            var tokenizer = TokenizerLoader.FromFolder(smallDir);
            if (TokenizerLoader.FromFolder(largeDir).Identity != tokenizer.Identity)
                throw new UserInputException($"{largeDir} and {smallDir} use different tokenizers; POST transfer needs the distilled pair");
            var smallPrompt = SoftPrompt.Load(parse.GetValue(promptFile)!);
            if (smallPrompt.HiddenSize != smallModel.HiddenSize || smallModel.HiddenSize != largeModel.HiddenSize)
                throw new UserInputException($"hidden sizes differ: prompt {smallPrompt.HiddenSize}, small model {smallModel.HiddenSize}, large model {largeModel.HiddenSize}");

            var labels = alphaTask?.Labels ?? verbalizer.Labels;
            PromptedClassifier Classifier(CausalLM m) => new(m, tokenizer, labels, labels.Select(verbalizer.WordsFor).ToList(), template.Render);
            var largeClassifier = Classifier(largeModel);
            var smallClassifier = Classifier(smallModel);
            LabelWordWarnings.Print(largeClassifier, smallClassifier);
            if (validationSet is not null) verbalizer.RequireCovers(validationSet.Labels);
            var ps = smallPrompt.ToTensor(largeModel);

            double chosenAlpha;
            object? heuristic = null;
            if (parse.GetValue(alpha) is double given) chosenAlpha = given;
            else
            {
                var choice = PromptTransfer.ChooseAlpha(largeClassifier, smallClassifier, ps, alphaTask!.Examples.Select(e => (e.Text, e.Label)).ToList());
                chosenAlpha = choice.Alpha;
                heuristic = new { zero_shot_large = choice.ZeroShotLarge, compressed_small = choice.CompressedSmall, random_guess = choice.RandomGuess };
                if (!parse.GetValue(json))
                    AnsiConsole.MarkupLine($"α = {chosenAlpha:F3} from zero-shot {choice.ZeroShotLarge:P1}, compressed {choice.CompressedSmall:P1}, random {choice.RandomGuess:P1}");
            }

            var texts = PublicTexts.Load(parse.GetValue(publicFile)!, parse.GetValue(publicLimit), parse.GetValue(seed));
            var options = new TransferOptions
            {
                Steps = parse.GetValue(steps), LearningRate = parse.GetValue(lr), BatchSize = parse.GetValue(batch),
                Temperature = parse.GetValue(temperature), Alpha = chosenAlpha, Seed = parse.GetValue(seed), ValidateEvery = every,
            };
            string? initText = start.Resolve(parse, task.PresetOf(parse)?.InitText);
            var init = SoftPromptInit.Embed(largeModel, tokenizer, smallPrompt.Length, initText, parse.GetValue(seed));
            var result = ProgressViews.Bar("transfer", parse.GetValue(json), report =>
                new PromptTransfer(largeClassifier, smallClassifier, options).Run(texts, ps, init,
                    validationSet?.Examples.Select(e => (e.Text, e.Label)).ToList(),
                    new SyncProgress<TransferProgress>(p => report(p.Step, p.TotalSteps, $"transfer, loss {p.Loss:F4}"))));
            result.Best.ToSoftPrompt(ModelIdentity.Of(largeModel)).Save(parse.GetValue(output)!);
            // Losses over the whole public set (not a batch), T²-scaled as trained: an independent implementation can recompute them.
            var summary = new
            {
                prompt = parse.GetValue(output), alpha = chosenAlpha, heuristic, steps = options.Steps, temperature = options.Temperature,
                public_texts = texts.Texts.Count, init_text = initText, initial_loss = result.InitialLoss, final_loss = result.FinalLoss,
                validation = every == 0 ? null : new
                {
                    every, examples = validationSet!.Count, best_step = result.BestStep,
                    best_accuracy = result.Validation.Single(v => v.Step == result.BestStep).Accuracy, last_accuracy = result.Validation[^1].Accuracy,
                    accuracies = result.Validation.Select(v => new { step = v.Step, accuracy = v.Accuracy }),
                },
            };
            if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(summary));
            else
            {
                AnsiConsole.MarkupLine($"wrote [blue]{Markup.Escape(summary.prompt!)}[/]: loss over the {texts.Texts.Count} public texts {result.InitialLoss:F4} → {result.FinalLoss:F4} after {options.Steps} steps");
                if (summary.validation is { } v)
                    AnsiConsole.MarkupLine($"kept the prompt of step {v.best_step} (public validation accuracy {v.best_accuracy:P1}; last step {v.last_accuracy:P1})");
            }
            return 0;
        });
        return command;
    }
}
