using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Coordinator.Rounds;

public enum TaskAction { Wait, Train, Finished }

/// <summary>What a client should do now: wait (with the reason), train (<see cref="Training"/>), or stop.</summary>
public sealed record ClientTask(TaskAction Action, int Round, string Reason, TrainingTask? Training = null);

/// <summary>
/// One client's work in a round: the global prompt of its mode and that prompt's version (the upload must name it),
/// the deadline, and the local work its strategy configured for it.
/// </summary>
public sealed record TrainingTask(Prompt GlobalPrompt, string PromptVersion, DateTimeOffset Deadline, LocalWork Work);

/// <summary>The settings of a client's local work in one round (Flower's per-client fit configuration), by mode.</summary>
public abstract record LocalWork(int Seed)
{
    /// <summary>Soft-prompt tuning on the small model (DP-SGD when <see cref="SoftRunConfig.Dp"/> is set).</summary>
    public sealed record Soft(int Seed, SoftRunConfig Settings) : LocalWork(Seed);

    /// <summary>A discrete prompt search through the inference service.</summary>
    public sealed record Discrete(int Seed, DiscreteRunConfig Settings) : LocalWork(Seed);
}
