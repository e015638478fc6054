using System.CommandLine;
using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Training;
using FederatedPrompts.Post.Distillation;
using Spectre.Console;

namespace FederatedPrompts.Cli.Commands;

/// <summary>
/// <c>fedprompt distill</c>: POST step 1. Distils a teacher folder into a student made of some of its layers on a public
/// corpus, with progress, checkpoints, <c>--resume</c>, and held-out student perplexity and KD-loss curves.
/// </summary>
public static class DistillCommand
{
    public static Command Create()
    {
        var teacher = new Option<string>("--teacher") { Description = "Teacher model folder (Hugging Face layout, with tokenizer files)", Required = true };
        var corpus = new Option<string>("--corpus") { Description = "Public corpus (.jsonl with \"text\", or .txt)", Required = true };
        var output = new Option<string>("--out") { Description = "Output student folder", Required = true };
        var layers = new Option<string>("--layers") { Description = "Teacher layers the student keeps, e.g. 0,1,-2,-1 (negative: from the end)", DefaultValueFactory = _ => LayerSelection.Default };
        var steps = new Option<int>("--steps") { Description = "Distillation steps", DefaultValueFactory = _ => 1000 };
        var batch = new Option<int>("--batch-size") { Description = "Windows per step", DefaultValueFactory = _ => 16 };
        var context = new Option<int>("--context") { Description = "Context length (at most the teacher's positions)", DefaultValueFactory = _ => 64 };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (AdamW, cosine decay)", DefaultValueFactory = _ => 5e-4 };
        var alphaCe = new Option<double>("--alpha-ce") { Description = "Weight of T²·KL(teacher ‖ student) on soft targets", DefaultValueFactory = _ => 5 };
        var alphaLm = new Option<double>("--alpha-lm") { Description = "Weight of the student's next-token cross-entropy", DefaultValueFactory = _ => 2 };
        var alphaCos = new Option<double>("--alpha-cos") { Description = "Weight of 1 − cosine between last hidden states", DefaultValueFactory = _ => 1 };
        var temperature = new Option<double>("--temperature") { Description = "Softmax temperature of the soft targets", DefaultValueFactory = _ => 2 };
        var freezeHead = new Option<bool>("--freeze-head") { Description = "Keep the teacher's LM head (with tied embeddings: also the token embeddings)" };
        var evalEvery = new Option<int>("--eval-every") { Description = "Held-out perplexity every this many steps", DefaultValueFactory = _ => 100 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Save a resumable checkpoint every this many steps", DefaultValueFactory = _ => 250 };
        var heldOut = new Option<double>("--held-out") { Description = "Fraction of documents held out for evaluation", DefaultValueFactory = _ => 0.05 };
        var resume = new Option<bool>("--resume") { Description = "Continue from OUT/checkpoint if it exists" };
        var dtype = new Option<string>("--dtype") { Description = "Storage dtype of the student's weights (checkpoints stay f32)", DefaultValueFactory = _ => "f32" }
            .AcceptOnlyFromAmong("f32", "bf16", "f16");
        var documentWindows = CommonOptions.WindowsAtDocuments();
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var command = new Command("distill", "Distil a teacher into a smaller student made of some of its layers (POST step 1)")
        {
            teacher, corpus, output, layers, steps, batch, context, lr, alphaCe, alphaLm, alphaCos, temperature, freezeHead,
            evalEvery, checkpointEvery, heldOut, resume, dtype, documentWindows, seed, device,
        };
        command.SetAction(parse =>
        {
            int Positive(Option<int> option) => parse.GetValue(option) is > 0 and var v ? v
                : throw new UserInputException($"{option.Name} must be positive");
            double NonNegative(Option<double> option) => parse.GetValue(option) is >= 0 and var v ? v
                : throw new UserInputException($"{option.Name} must not be negative");
            if (parse.GetValue(temperature) is not > 0) throw new UserInputException("--temperature must be positive");
            var spec = new DistillJobSpec
            {
                TeacherDir = parse.GetValue(teacher)!, Documents = TextCorpus.Open(parse.GetValue(corpus)!), OutputDir = parse.GetValue(output)!,
                Layers = parse.GetValue(layers)!, HeldOutFraction = parse.GetValue(heldOut), Resume = parse.GetValue(resume),
                Device = CommonOptions.ResolveDevice(parse.GetValue(device)!), OutputDType = parse.GetValue(dtype)!.ToUpperInvariant(),
                Options = new DistillOptions
                {
                    Weights = new DistillationWeights(NonNegative(alphaCe), NonNegative(alphaLm), NonNegative(alphaCos), parse.GetValue(temperature)),
                    FreezeHead = parse.GetValue(freezeHead),
                    Training = new PretrainOptions
                    {
                        Steps = Positive(steps), BatchSize = Positive(batch), ContextLength = Positive(context), LearningRate = parse.GetValue(lr),
                        EvalEvery = Positive(evalEvery), CheckpointEvery = Positive(checkpointEvery), Seed = parse.GetValue(seed),
                        WindowsAtDocuments = parse.GetValue(documentWindows),
                    },
                },
            };
            // Checked against the teacher's config before any output, so bad input ends with only the error line.
            var teacherConfig = TransformerConfig.Load(Path.Combine(spec.TeacherDir, HfCheckpoint.ConfigFileName));
            LayerSelection.Parse(spec.Layers, teacherConfig.NumLayers);
            if (spec.Options.Training.ContextLength > teacherConfig.MaxPositions)
                throw new UserInputException($"--context {spec.Options.Training.ContextLength} exceeds the teacher's {teacherConfig.MaxPositions} positions");
            var result = ProgressViews.Distill(spec);
            var table = new Table().AddColumns("step", "student perplexity", "held-out KD loss");
            foreach (var point in result.State.HeldOutCurve)
                table.AddRow(point.Step.ToString(), point.StudentPerplexity.ToString("F2"), point.KdLoss.ToString("F4"));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"teacher layers {string.Join(",", result.TeacherLayers)}: {result.TeacherParameters:N0} → {result.StudentParameters:N0} parameters, " +
                                   $"{result.State.TokensPerSecond:F0} training tokens/s");
            AnsiConsole.MarkupLine($"student: [blue]{Markup.Escape(Path.GetFullPath(result.StudentDir))}[/]");
            return 0;
        });
        return command;
    }
}
