using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Soft;
using FederatedPrompts.Aggregation.Uploads;
using FederatedPrompts.Coordinator.Models;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Coordinator.Strategies;

/// <summary>
/// POST's federated part: clients tune the global soft prompt on the small model (DP-SGD when the run sets soft.dp), the
/// server combines their vectors with an aggregation rule (<see cref="ISoftPromptAggregationStrategy"/>: FedAvg, median,
/// trimmed mean, FedDTPT's clustering, ...), evaluates on the small model, and transfers the final prompt to the large
/// model (and every transfer.every_rounds rounds, for the report).
/// </summary>
public class SoftPromptStrategy(string name, RunConfig config, Lazy<RunModels> models, ISoftPromptAggregationStrategy rule)
    : FederationStrategy(name, PromptMode.Soft, config, models)
{
    public override LocalWork ConfigureClient(string clientId, int seed, int round) => new LocalWork.Soft(seed, Config.Soft);

    public override AggregationOutcome Aggregate(int round, Prompt globalPrompt, IReadOnlyList<UpdateRecord> updates)
    {
        var uploads = updates.Select(u => new SoftPromptUpload(u.ClientId, ((SoftPrompt)u.Prompt).Rows(), u.ExampleCount)).ToList();
        var global = rule.Aggregate(uploads);
        return new(global.ToSoftPrompt(((SoftPrompt)globalPrompt).ModelIdentity), AggregationNotesJson.Of(global.Notes, global.Vectors.Count));
    }

    public override bool TransfersAfter(int round) =>
        Config.Transfer.EveryRounds > 0 && round % Config.Transfer.EveryRounds == 0 && round < Config.Rounds;

    public override bool TransfersAtEnd => true;

    public override (Prompt LargePrompt, object Outcome) Transfer(Prompt globalPrompt) => RunTransfer.Run(Models, Config, (SoftPrompt)globalPrompt);

    /// <summary>The aggregation rule's settings from the run configuration.</summary>
    public static SoftAggregationOptions RuleOptions(RunConfig config) =>
        new(config.AggregationMinSamples, MaxLength: config.AggregationMaxLength ?? config.Soft.PromptLength, Eps: config.AggregationEpsRule,
            TrimFraction: config.AggregationTrimFraction);
}

/// <summary>What an aggregation did, in the round notes of the run's report.</summary>
static class AggregationNotesJson
{
    public static object Of(AggregationNotes notes, int length) => new
    {
        prompt_length = length, clusters = notes.Clusters, noise_kept = notes.NoiseKept, noise_dropped = notes.NoiseDropped,
        eps = notes.EpsChoice?.Eps, knee_index = notes.EpsChoice?.KneeIndex, eps_rule = notes.EpsChoice?.Rule.ToString(),
    };
}
