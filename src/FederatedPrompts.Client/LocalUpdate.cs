using FederatedPrompts.Core.Federation;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Client;

/// <summary>What one round's local work hands back for upload: the trained prompt and how the work went.</summary>
public abstract record LocalUpdate(LocalWorkMetrics Metrics);

/// <summary>A tuned soft prompt; <see cref="Privacy"/> is what DP-SGD spent (null without DP).</summary>
public sealed record SoftUpdate(SoftPrompt Prompt, LocalWorkMetrics Metrics, DpSpend? Privacy) : LocalUpdate(Metrics);

/// <summary>
/// A searched token prompt. <see cref="Search"/> says what the search did, for reports in this process: the wire has no
/// place for it, so it is never sent (null where no search ran, as in a simulated update).
/// </summary>
public sealed record DiscreteUpdate(DiscretePrompt Prompt, LocalWorkMetrics Metrics, SearchStatistics? Search) : LocalUpdate(Metrics);

/// <summary>
/// How the local work went: accuracy on the client's own examples before and after, the last loss (soft), steps, and
/// the black-box inputs and tokens it sent (discrete).
/// </summary>


/// <summary>A discrete search's replacements kept, candidates evaluated, and how many of those changed the batch's accuracy.</summary>
public sealed record SearchStatistics(int Accepted, int CandidatesEvaluated, int CandidatesChangingAccuracy);
