using System.CommandLine;
using System.Text.Json;
using FederatedPrompts.Core;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using Spectre.Console;
using static TorchSharp.torch;

namespace FederatedPrompts.Cli.Commands;

/// <summary>
/// <c>fedprompt eval --model DIR --task FILE</c>: accuracy of prompted classification, zero-shot or with a soft
/// prompt (--soft-prompt) or discrete prompt (--prompt-text / --prompt-ids).
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var task = new TaskSetup();
        var softPrompt = new Option<string?>("--soft-prompt") { Description = "Soft prompt JSON file (vectors in the model's embedding space)" };
        var promptText = new Option<string?>("--prompt-text") { Description = "Discrete prompt as text, placed before the templated input" };
        var promptIds = new Option<string?>("--prompt-ids") { Description = "Discrete prompt as comma-separated token ids" };
        var limit = new Option<int?>("--limit") { Description = "Evaluate a seeded sample of at most this many examples" };
        var batch = new Option<int>("--batch-size") { Description = "Examples per forward pass", DefaultValueFactory = _ => 32 };
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var json = CommonOptions.Json();
        var command = new Command("eval", "Accuracy of prompted classification on a task file") { model, softPrompt, promptText, promptIds, limit, batch, seed, device, json };
        foreach (var option in task.Options) command.Add(option);
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(model)!;
            var (taskData, template, verbalizer) = task.Resolve(parse);
            var data = taskData!;   // --task is required here
            if (parse.GetValue(limit) is int n && n < data.Examples.Count) data = data.Sample(n, parse.GetValue(seed));
            var computeDevice = CommonOptions.ResolveDevice(parse.GetValue(device)!);
            using var lm = HfCheckpoint.Load(dir, computeDevice);
            var tokenizer = TokenizerLoader.FromFolder(dir);
            var prompt = ReadPrompt(parse.GetValue(softPrompt), parse.GetValue(promptText), parse.GetValue(promptIds), lm, tokenizer, computeDevice);
            var classifier = new PromptedClassifier(lm, tokenizer, data.Labels, data.Labels.Select(verbalizer.WordsFor).ToList(), template.Render);
            LabelWordWarnings.Print(classifier);
            var examples = data.Examples.Select(e => (e.Text, e.Label)).ToList();

            var result = ProgressViews.Bar($"evaluating {examples.Count} examples", parse.GetValue(json), report =>
                classifier.Evaluate(examples, prompt, parse.GetValue(batch), new SyncProgress<int>(done => report(done, examples.Count, $"evaluated {done}/{examples.Count}"))));

            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    accuracy = result.Accuracy, macro_accuracy = result.MacroAccuracy, count = result.Count, labels = result.Labels,
                    confusion = Enumerable.Range(0, result.Labels.Count).Select(i => Enumerable.Range(0, result.Labels.Count).Select(j => result.Confusion[i, j])),
                }));
                return 0;
            }
            var table = new Table().AddColumn("true \\ predicted");
            foreach (var label in result.Labels) table.AddColumn(label);
            for (int i = 0; i < result.Labels.Count; i++)
                table.AddRow([result.Labels[i], .. Enumerable.Range(0, result.Labels.Count).Select(j => result.Confusion[i, j].ToString())]);
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"accuracy [bold]{result.Accuracy:P2}[/], macro accuracy (mean per-class recall) [bold]{result.MacroAccuracy:P2}[/] on {result.Count} examples ({Markup.Escape(data.Source)}, template \"{Markup.Escape(template.Pattern)}\")");
            return 0;
        });
        return command;
    }

    static PromptInput ReadPrompt(string? softPath, string? text, string? ids, CausalLM model, ITextTokenizer tokenizer, Device device)
    {
        if (text is not null && ids is not null) throw new UserInputException("give at most one of --prompt-text and --prompt-ids");
        IReadOnlyList<int>? discrete = text is not null ? tokenizer.Encode(text) : ids is not null ? CommonOptions.ParseIds(ids, "--prompt-ids") : null;
        Tensor? soft = null;
        if (softPath is not null)
        {
            var prompt = SoftPrompt.Load(softPath);
            if (prompt.HiddenSize != model.HiddenSize)
                throw new UserInputException($"{softPath}: soft prompt vectors have {prompt.HiddenSize} dimensions, the model's embeddings {model.HiddenSize}");
            // Same width but another model is allowed (POST's "direct use" of a student prompt on the teacher), never silently.
            if (ModelIdentity.Of(model) is var identity && identity != prompt.ModelIdentity)
                Console.Error.WriteLine($"warning: {softPath} was tuned for model {prompt.ModelIdentity}, not this model ({identity}); " +
                                        "evaluating it here is direct use, not a transfer");
            soft = prompt.ToTensor(model);
        }
        return new PromptInput(soft, discrete);
    }
}
