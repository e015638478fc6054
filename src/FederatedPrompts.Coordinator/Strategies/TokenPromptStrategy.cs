using FederatedPrompts.Aggregation.Tokens;
using FederatedPrompts.Aggregation.Uploads;
using FederatedPrompts.Coordinator.Models;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Coordinator.Strategies;

/// <summary>
/// FedDTPT's federated part: clients search a token prompt through the inference service (labels only); the server embeds
/// every uploaded token (aggregation_embeddings) and combines them with an aggregation rule
/// (<see cref="ITokenAggregationStrategy"/>: FedDTPT's attention + DBSCAN, or an ablation), and evaluates the global
/// prompt on the large model. The final global prompt is published as it is: it already runs on the large model.
/// </summary>
public class TokenPromptStrategy(string name, RunConfig config, Lazy<RunModels> models, Func<RunModels, ITokenAggregationStrategy> rule)
    : FederationStrategy(name, PromptMode.Discrete, config, models)
{
    public override LocalWork ConfigureClient(string clientId, int seed, int round) => new LocalWork.Discrete(seed, Config.Discrete);

    public override AggregationOutcome Aggregate(int round, Prompt globalPrompt, IReadOnlyList<UpdateRecord> updates)
    {
        var vocabulary = Models.Vocabulary;
        var uploads = updates.Select(u =>
        {
            var ids = ((DiscretePrompt)u.Prompt).TokenIds;
            return new TokenPromptUpload(u.ClientId, ids.Zip(vocabulary.Embed(ids), (id, vector) => new PromptToken(id, vector)).ToList(), u.ExampleCount);
        }).ToList();
        var tokens = rule(Models).Aggregate(uploads);
        var ids = tokens.TokenIds.ToList();
        return new(Models.TokenPrompt(ids), AggregationNotesJson.Of(tokens.Notes, ids.Count));
    }

    /// <summary>The aggregation rule's settings from the run configuration and its models.</summary>
    public static TokenAggregationOptions RuleOptions(RunConfig config, RunModels models) => new(
        config.AggregationMinSamples, PromptLength: config.AggregationMaxLength ?? models.Facts.MaxPromptLength, Seed: config.Seed,
        Vocabulary: models.Vocabulary, Eps: config.AggregationEpsRule, K: config.AggregationK);
}
