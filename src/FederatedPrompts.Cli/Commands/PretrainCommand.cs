using System.CommandLine;
using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Core.Synthetic;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using Spectre.Console;

namespace FederatedPrompts.Cli.Commands;

/// <summary>
/// <c>fedprompt pretrain</c>: trains a GPT-2-style teacher from scratch on a corpus (JSONL "text" or .txt),
/// with progress, periodic checkpoints, <c>--resume</c> and a held-out perplexity curve.
/// </summary>
public static class PretrainCommand
{
    public static Command Create()
    {
        var corpus = new Option<string?>("--corpus") { Description = "Corpus file (.jsonl with \"text\", or .txt); default: the built-in generated corpus" };
        var output = new Option<string>("--out") { Description = "Output model folder", DefaultValueFactory = _ => Path.Combine("runs", "teacher") };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Use this tokenizer folder instead of training the corpus tokenizer" };
        var vocab = new Option<int>("--vocab-size") { Description = "Corpus tokenizer size (cl100k tokens kept, incl. 256 bytes)", DefaultValueFactory = _ => 4096 };
        var layers = new Option<int>("--layers") { Description = "Transformer layers of a new model", DefaultValueFactory = _ => 4 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size of a new model", DefaultValueFactory = _ => 128 };
        var heads = new Option<int>("--heads") { Description = "Attention heads of a new model", DefaultValueFactory = _ => 4 };
        var context = new Option<int>("--context") { Description = "Context length (positions)", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Training steps", DefaultValueFactory = _ => 2000 };
        var batch = new Option<int>("--batch-size") { Description = "Windows per step", DefaultValueFactory = _ => 16 };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (AdamW, cosine decay)", DefaultValueFactory = _ => 1e-3 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Held-out perplexity every this many steps", DefaultValueFactory = _ => 250 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Save a resumable checkpoint every this many steps", DefaultValueFactory = _ => 250 };
        var heldOut = new Option<double>("--held-out") { Description = "Fraction of documents held out for perplexity", DefaultValueFactory = _ => 0.05 };
        var resume = new Option<bool>("--resume") { Description = "Continue from OUT/checkpoint if it exists" };
        var prepareOnly = new Option<bool>("--prepare-only")
        {
            Description = "Write config.json, the tokenizer and the corpus's token ids (OUT/tokens/*.u16) and stop: for training on another machine (bench/teacher/)",
        };
        var documentWindows = CommonOptions.WindowsAtDocuments();
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var command = new Command("pretrain", "Pretrain a GPT-2-style teacher on a text corpus")
        {
            corpus, output, tokenizer, vocab, layers, hidden, heads, context, steps, batch, lr, evalEvery, checkpointEvery, heldOut, resume, prepareOnly, documentWindows, seed, device,
        };
        command.SetAction(parse =>
        {
            int Positive(Option<int> option) => parse.GetValue(option) is > 0 and var v ? v
                : throw new UserInputException($"{option.Name} must be positive");
            var shape = new GptShape(Positive(layers), Positive(hidden), Positive(heads), Positive(context));
            if (shape.Hidden % shape.Heads != 0) throw new UserInputException($"--hidden {shape.Hidden} is not divisible by --heads {shape.Heads}");
            string? corpusPath = parse.GetValue(corpus);
            var spec = new PretrainJobSpec
            {
                Documents = corpusPath is null ? DocumentSource.Of(BuiltInData.Corpus(parse.GetValue(seed))) : TextCorpus.Open(corpusPath), OutputDir = parse.GetValue(output)!, Shape = shape,
                TokenizerDir = parse.GetValue(tokenizer), VocabSize = Positive(vocab), HeldOutFraction = parse.GetValue(heldOut),
                Resume = parse.GetValue(resume), Device = CommonOptions.ResolveDevice(parse.GetValue(device)!),
                Options = new PretrainOptions
                {
                    Steps = Positive(steps), BatchSize = Positive(batch), ContextLength = shape.Context, LearningRate = parse.GetValue(lr),
                    EvalEvery = Positive(evalEvery), CheckpointEvery = Positive(checkpointEvery), Seed = parse.GetValue(seed),
                    WindowsAtDocuments = parse.GetValue(documentWindows),
                },
            };
            if (parse.GetValue(prepareOnly))
            {
                var (trainTokens, heldOutTokens) = PretrainJob.Prepare(spec);
                AnsiConsole.MarkupLine($"{trainTokens:N0} training and {heldOutTokens:N0} held-out tokens, config and tokenizer in " +
                                       $"[blue]{Markup.Escape(Path.GetFullPath(spec.OutputDir))}[/]");
                return 0;
            }
            var result = ProgressViews.Pretrain(spec);
            var table = new Table().AddColumns("step", "held-out perplexity");
            foreach (var point in result.State.HeldOutCurve) table.AddRow(point.Step.ToString(), point.Perplexity.ToString("F2"));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"{result.Parameters:N0} parameters, vocabulary {result.VocabSize}, {result.State.TokensPerSecond:F0} training tokens/s");
            AnsiConsole.MarkupLine($"model: [blue]{Markup.Escape(Path.GetFullPath(result.ModelDir))}[/]");
            if (corpusPath is null)
                EvaluateOnBuiltInTask(result.ModelDir, spec.Device, parse.GetValue(seed));
            return 0;
        });
        return command;
    }

    /// <summary>Zero-shot accuracy of the fresh teacher on the built-in sentiment task (what the generated corpus teaches).</summary>
    static void EvaluateOnBuiltInTask(string modelDir, TorchSharp.torch.Device device, int seed)
    {
        var task = BuiltInData.SentimentTest(seed);
        var preset = SyntheticSentimentTask.Preset;
        using var model = HfCheckpoint.Load(modelDir, device);
        var classifier = new PromptedClassifier(model, TokenizerLoader.FromFolder(modelDir), task.Labels,
            task.Labels.Select(preset.Verbalizer.WordsFor).ToList(), preset.Template.Render);
        var result = classifier.Evaluate(task.Examples.Select(e => (e.Text, e.Label)).ToList(), PromptInput.None);
        AnsiConsole.MarkupLine($"zero-shot accuracy on the built-in sentiment task: [bold]{result.Accuracy:P1}[/] " +
                               $"({result.Count} examples, template \"{Markup.Escape(preset.Template.Pattern)}\", chance 50%)");
    }
}
