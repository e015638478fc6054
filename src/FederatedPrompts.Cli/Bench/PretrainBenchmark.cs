using System.CommandLine;
using System.Diagnostics;
using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using Spectre.Console;

namespace FederatedPrompts.Cli.Bench;

/// <summary>
/// <c>fedprompt bench pretrain</c>: training throughput (tokens/s) of <c>pretrain</c> for a stated model size and
/// the held-out perplexity curve of a teacher pretrained on a corpus (by default the Brown corpus in ../shared).
/// </summary>
public static class PretrainBenchmark
{
    public static Command Create()
    {
        var corpus = new Option<string>("--corpus") { Description = "Text corpus to pretrain on (.jsonl or .txt)", DefaultValueFactory = _ => Path.Combine("..", "shared", "data", "corpora", "brown.jsonl") };
        var output = new Option<string>("--out") { Description = "Results folder", DefaultValueFactory = _ => Path.Combine("bench", "results") };
        var model = new Option<string>("--model-out") { Description = "Where the trained teacher is written", DefaultValueFactory = _ => Path.Combine("runs", "brown-teacher") };
        var layers = new Option<int>("--layers") { Description = "Transformer layers of the benchmarked model", DefaultValueFactory = _ => 4 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size of the benchmarked model", DefaultValueFactory = _ => 128 };
        var heads = new Option<int>("--heads") { Description = "Attention heads of the benchmarked model", DefaultValueFactory = _ => 4 };
        var context = new Option<int>("--context") { Description = "Context length (positions)", DefaultValueFactory = _ => 64 };
        var vocab = new Option<int>("--vocab-size") { Description = "Vocabulary of the tokenizer trained on the corpus", DefaultValueFactory = _ => 4096 };
        var steps = new Option<int>("--steps") { Description = "Pretraining steps", DefaultValueFactory = _ => 1500 };
        var batch = new Option<int>("--batch-size") { Description = "Windows per step", DefaultValueFactory = _ => 16 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Held-out perplexity every this many steps", DefaultValueFactory = _ => 100 };
        var costRounds = new Option<int>("--cost-rounds") { Description = "Step cost: alternating rounds of the Pretrainer and the minimal loop", DefaultValueFactory = _ => 10 };
        var costSteps = new Option<int>("--cost-steps") { Description = "Step cost: steps per round", DefaultValueFactory = _ => 20 };
        var costWarmup = new Option<int>("--cost-warmup") { Description = "Step cost: untimed steps of each loop first", DefaultValueFactory = _ => 5 };
        var seed = CommonOptions.Seed();
        var command = new Command("pretrain", "Pretraining throughput, held-out perplexity curve, and a step's cost against a minimal training loop")
        {
            corpus, output, model, layers, hidden, heads, context, vocab, steps, batch, evalEvery, costRounds, costSteps, costWarmup, seed,
        };
        command.SetAction(parse =>
        {
            int Positive(Option<int> option) => parse.GetValue(option) is > 0 and var v ? v : throw new UserInputException($"{option.Name} must be positive");
            var (rounds, stepsPerRound, warmup) = (Positive(costRounds), Positive(costSteps), Positive(costWarmup));
            var shape = new GptShape(parse.GetValue(layers), parse.GetValue(hidden), parse.GetValue(heads), parse.GetValue(context));
            string corpusPath = parse.GetValue(corpus)!;
            var spec = new PretrainJobSpec
            {
                Documents = TextCorpus.Open(corpusPath), OutputDir = parse.GetValue(model)!, Shape = shape, VocabSize = parse.GetValue(vocab),
                Options = new PretrainOptions
                {
                    Steps = parse.GetValue(steps), BatchSize = parse.GetValue(batch), ContextLength = shape.Context,
                    EvalEvery = parse.GetValue(evalEvery), CheckpointEvery = parse.GetValue(steps), Seed = parse.GetValue(seed),
                },
            };
            var wall = Stopwatch.StartNew();
            var result = ProgressViews.Pretrain(spec);
            wall.Stop();
            var cost = MeasureStepCost(spec, result, warmup, rounds, stepsPerRound);

            // Kaplan et al. (2020): ≈ 6 FLOPs per parameter per token (forward + backward), plus 6·layers·context·hidden for attention scores.
            long positionParameters = (long)shape.Context * shape.Hidden;
            double flopsPerToken = 6.0 * (result.Parameters - positionParameters) + 6.0 * shape.Layers * shape.Context * shape.Hidden;
            var numbers = new
            {
                corpus = Path.GetFileName(corpusPath), documents = result.Documents, train_tokens = result.TrainStreamTokens, held_out_tokens = result.HeldOutTokens,
                model = new { family = "gpt2", shape.Layers, shape.Hidden, shape.Heads, shape.Context, vocab_size = result.VocabSize, parameters = result.Parameters },
                spec.Options.Steps, spec.Options.BatchSize, threads = TorchSharp.torch.get_num_threads(), Environment.ProcessorCount,
                tokens_per_second = result.State.TokensPerSecond, train_seconds = result.State.TrainSeconds, wall_seconds = wall.Elapsed.TotalSeconds,
                flops_per_token = flopsPerToken, achieved_gflops = flopsPerToken * result.State.TokensPerSecond / 1e9,
                held_out_perplexity = result.State.HeldOutCurve.Select(p => new { p.Step, p.Perplexity }),
                final_perplexity = result.FinalPerplexity,
                step_cost = new
                {
                    cost.WarmupSteps, cost.Rounds, cost.StepsPerRound, pretrainer_ms_per_step = cost.PretrainerMsPerStep, minimal_ms_per_step = cost.MinimalMsPerStep,
                    cost.Ratio, median_round_ratio = cost.MedianRoundRatio, target_ratio = TargetRatio, target_met = cost.Ratio <= TargetRatio,
                    eval_every = spec.Options.EvalEvery, checkpoint_every = spec.Options.EvalEvery,
                    pretrainer_round_ms = cost.PretrainerRoundMs, minimal_round_ms = cost.MinimalRoundMs,
                },
            };
            var report = new BenchReport("pretrain", "Teacher pretraining")
                .Paragraph($"GPT-2-style model, {shape.Layers} layers × {shape.Hidden} hidden, {shape.Heads} heads, context {shape.Context}, " +
                           $"vocabulary {result.VocabSize} ({result.Parameters:N0} parameters), trained {spec.Options.Steps} steps × {spec.Options.BatchSize} sequences " +
                           $"on `{Path.GetFileName(corpusPath)}` ({result.TrainStreamTokens:N0} training tokens, {result.HeldOutTokens:N0} held out), " +
                           $"{Environment.ProcessorCount} CPU cores, seed {spec.Options.Seed}.")
                .Table(["metric", "value"],
                [
                    ["training throughput", $"{result.State.TokensPerSecond:F0} tokens/s"],
                    ["achieved compute", $"{numbers.achieved_gflops:F1} GFLOP/s ({flopsPerToken / 1e6:F1} MFLOP/token)"],
                    ["training time", $"{result.State.TrainSeconds:F0} s (wall {wall.Elapsed.TotalSeconds:F0} s incl. evaluation)"],
                    ["held-out perplexity, start → end", $"{result.State.HeldOutCurve[0].Perplexity:F1} → {result.FinalPerplexity:F2}"],
                ])
                .Table(["step", "held-out perplexity"], result.State.HeldOutCurve.Select(p => (IReadOnlyList<string>)[p.Step.ToString(), p.Perplexity.ToString("F2")]))
                .Paragraph($"Step cost: the Pretrainer (held-out evaluation every {spec.Options.EvalEvery} steps, checkpoint as often) against a minimal " +
                           "TorchSharp loop on a model of the same configuration (one fixed batch, forward, cross-entropy, backward, AdamW; nothing else), " +
                           $"{cost.Rounds} alternating rounds of {cost.StepsPerRound} steps each after {cost.WarmupSteps} untimed steps of both.")
                .Table(["metric", "value"],
                [
                    ["Pretrainer", $"{cost.PretrainerMsPerStep:F1} ms/step"],
                    ["minimal loop", $"{cost.MinimalMsPerStep:F1} ms/step"],
                    ["ratio (all rounds)", $"{cost.Ratio:F3} (target ≤ {TargetRatio}: {(cost.Ratio <= TargetRatio ? "met" : "missed")})"],
                    ["median of the rounds' ratios", $"{cost.MedianRoundRatio:F3}"],
                ]);
            var files = report.Write(parse.GetValue(output)!, numbers, "training step", "held-out perplexity",
                [new PlotSeries("held-out perplexity", result.State.HeldOutCurve.Select(p => (double)p.Step).ToList(), result.State.HeldOutCurve.Select(p => p.Perplexity).ToList())],
                logY: true);
            AnsiConsole.MarkupLine($"step cost: Pretrainer {cost.PretrainerMsPerStep:F1} ms, minimal loop {cost.MinimalMsPerStep:F1} ms, ratio [bold]{cost.Ratio:F3}[/] " +
                                   $"(median of rounds {cost.MedianRoundRatio:F3}; target ≤ {TargetRatio})");
            foreach (var file in files) AnsiConsole.MarkupLine($"wrote [blue]{Markup.Escape(file)}[/]");
            return 0;
        });
        return command;
    }

    /// <summary>A step of pretrain may cost at most this many times a minimal training loop's step.</summary>
    const double TargetRatio = 1.15;

    /// <summary>The step-cost comparison on the run's corpus and tokenizer, with checkpoints as often as evaluations.</summary>
    static PretrainStepCost.Result MeasureStepCost(PretrainJobSpec spec, PretrainJobResult result, int warmup, int rounds, int stepsPerRound)
    {
        AnsiConsole.MarkupLine($"[bold]step cost[/]: Pretrainer against a minimal loop, {rounds} alternating rounds of {stepsPerRound} steps");
        var scratch = Directory.CreateTempSubdirectory("fedprompt-step-cost").FullName;
        try
        {
            var tokenizer = TokenizerLoader.FromFolder(result.ModelDir);
            using var tokens = TokenizedCorpus.Write(DocumentSplit.Of(spec.Documents, spec.HeldOutFraction, spec.Options.Seed), tokenizer,
                Path.Combine(scratch, TokenizedCorpus.Folder));
            return PretrainStepCost.Measure(spec.Shape.ToConfig(tokenizer.VocabSize, tokenizer), tokenizer, tokens,
                spec.Options with { CheckpointEvery = spec.Options.EvalEvery }, warmup, rounds, stepsPerRound, Path.Combine(scratch, "run"));
        }
        finally { Directory.Delete(scratch, recursive: true); }
    }
}
