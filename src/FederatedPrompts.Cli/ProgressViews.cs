using FederatedPrompts.Core;
using FederatedPrompts.Modeling.Training;
using Spectre.Console;

namespace FederatedPrompts.Cli;

/// <summary>Spectre.Console progress for long jobs; plain lines when output is redirected (CI logs stay readable).</summary>
public static class ProgressViews
{
    public static PretrainJobResult Pretrain(PretrainJobSpec spec)
    {
        AnsiConsole.MarkupLine($"[bold]pretraining[/] {spec.Shape.Layers} layers × {spec.Shape.Hidden} hidden, context {spec.Shape.Context}, " +
                               $"{spec.Options.Steps} steps of {spec.Options.BatchSize} → [blue]{Markup.Escape(spec.OutputDir)}[/]");
        if (spec.Resume)
            AnsiConsole.MarkupLine(Pretrainer.TryLoadCheckpoint(spec.OutputDir) is { } saved
                ? $"resuming from the checkpoint of step {saved.Step}"
                : "no checkpoint to resume from: starting from step 0");
        if (Console.IsOutputRedirected)
            return PretrainJob.Run(spec, new SyncProgress<PretrainProgress>(p =>
            {
                if (p.HeldOut is { } point)
                    Console.WriteLine($"step {p.Step}/{p.TotalSteps}  loss {p.TrainLoss:F3}  held-out ppl {point.Perplexity:F2}  {p.TokensPerSecond:F0} tok/s");
            }));

        PretrainJobResult? result = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("pretrain", maxValue: spec.Options.Steps);
                string lastPerplexity = "";
                // Synchronous reporter: the job runs on this thread, so updates land in order.
                result = PretrainJob.Run(spec, new SyncProgress<PretrainProgress>(p =>
                {
                    if (p.HeldOut is { } point) lastPerplexity = $" ppl {point.Perplexity:F1}";
                    task.Description = $"loss {p.TrainLoss:F3}{lastPerplexity} {p.TokensPerSecond:F0} tok/s";
                    task.Value = p.Step;
                }));
            });
        return result!;
    }
}
