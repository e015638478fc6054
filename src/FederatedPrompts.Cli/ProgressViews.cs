using FederatedPrompts.Core;
using FederatedPrompts.Modeling.Training;
using FederatedPrompts.Post.Distillation;
using Spectre.Console;

namespace FederatedPrompts.Cli;

/// <summary>Spectre.Console progress for long jobs; plain lines when output is redirected (CI logs stay readable).</summary>
public static class ProgressViews
{
    public static PretrainJobResult Pretrain(PretrainJobSpec spec)
    {
        AnsiConsole.MarkupLine($"[bold]pretraining[/] {spec.Shape.Layers} layers × {spec.Shape.Hidden} hidden, context {spec.Shape.Context}, " +
                               $"{spec.Options.Steps} steps of {spec.Options.BatchSize} → [blue]{Markup.Escape(spec.OutputDir)}[/]");
        if (spec.Resume) ResumeLine(Pretrainer.TryLoadCheckpoint(spec.OutputDir)?.Step);
        return TrainingSteps<PretrainProgress, PretrainJobResult>("pretrain", spec.Options.Steps, progress => PretrainJob.Run(spec, progress),
            p => new StepView(p.Step, $"loss {p.TrainLoss:F3}", p.HeldOut is { } point ? $"held-out ppl {point.Perplexity:F2}" : null, p.TokensPerSecond));
    }

    public static DistillJobResult Distill(DistillJobSpec spec)
    {
        var options = spec.Options;
        AnsiConsole.MarkupLine($"[bold]distilling[/] [blue]{Markup.Escape(spec.TeacherDir)}[/] layers {spec.Layers}, context {options.Training.ContextLength}, " +
                               $"{options.Training.Steps} steps of {options.Training.BatchSize}, α_ce {options.Weights.Ce} α_lm {options.Weights.Lm} " +
                               $"α_cos {options.Weights.Cos}{(options.FreezeHead ? ", head frozen" : "")} → [blue]{Markup.Escape(spec.OutputDir)}[/]");
        if (spec.Resume) ResumeLine(Distiller.TryLoadCheckpoint(spec.OutputDir)?.Step);
        return TrainingSteps<DistillProgress, DistillJobResult>("distill", options.Training.Steps, progress => DistillJob.Run(spec, progress),
            p => new StepView(p.Step, $"loss {p.TrainLoss:F3}",
                p.HeldOut is { } point ? $"held-out ppl {point.StudentPerplexity:F2} kd {point.KdLoss:F4}" : null, p.TokensPerSecond));
    }

    /// <summary>
    /// A progress bar for a shorter job, which reports (done, total, description); nothing is drawn when
    /// <paramref name="quiet"/> (--json wants clean output) or output is redirected.
    /// </summary>
    public static T Bar<T>(string name, bool quiet, Func<Action<int, int, string>, T> job) =>
        BarAsync(name, quiet, report => Task.FromResult(job(report))).GetAwaiter().GetResult();

    /// <summary><see cref="Bar{T}"/> for a job that awaits (its reports may come from any thread).</summary>
    public static async Task<T> BarAsync<T>(string name, bool quiet, Func<Action<int, int, string>, Task<T>> job)
    {
        if (quiet || Console.IsOutputRedirected) return await job((_, _, _) => { });
        T result = default!;
        await AnsiConsole.Progress().StartAsync(async context =>
        {
            var task = context.AddTask(Markup.Escape(name), maxValue: 1);
            result = await job((done, total, description) =>
            {
                task.MaxValue = Math.Max(1, total);
                task.Value = done;
                task.Description = Markup.Escape(description);
            });
        });
        return result;
    }

    /// <summary>One progress report as shown: the step, the training loss, the held-out measurement when one was taken, throughput.</summary>
    readonly record struct StepView(int Step, string Loss, string? HeldOut, double TokensPerSecond);

    static void ResumeLine(int? savedStep) => AnsiConsole.MarkupLine(savedStep is int step
        ? $"resuming from the checkpoint of step {step}"
        : "no checkpoint to resume from: starting from step 0");

    /// <summary>Runs a step-counted job with a progress bar, or with a plain line per held-out measurement when output is redirected.</summary>
    static TResult TrainingSteps<TProgress, TResult>(string name, int totalSteps, Func<IProgress<TProgress>, TResult> job, Func<TProgress, StepView> view)
    {
        if (Console.IsOutputRedirected)
            return job(new SyncProgress<TProgress>(p =>
            {
                var v = view(p);
                if (v.HeldOut is { } heldOut)
                    Console.WriteLine($"step {v.Step}/{totalSteps}  {v.Loss}  {heldOut}  {v.TokensPerSecond:F0} tok/s");
            }));

        TResult? result = default;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(name, maxValue: totalSteps);
                string lastHeldOut = "";
                // Synchronous reporter: the job runs on this thread, so updates land in order.
                result = job(new SyncProgress<TProgress>(p =>
                {
                    var v = view(p);
                    if (v.HeldOut is { } heldOut) lastHeldOut = " " + heldOut;
                    task.Description = Markup.Escape($"{v.Loss}{lastHeldOut} {v.TokensPerSecond:F0} tok/s");
                    task.Value = v.Step;
                }));
            });
        return result!;
    }
}
