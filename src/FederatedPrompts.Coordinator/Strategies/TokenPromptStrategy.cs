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

    /// <summary>
    /// The rule's prompt from the round's updates. One update is taken as it is: FedDTPT scores a token by its similarity
    /// to the other clients' tokens, and with no other client every token would be noise (a hybrid run may have a single
    /// discrete-mode client). A rule that keeps no token leaves the round's global prompt in place, said in the notes,
    /// rather than failing the run on an empty prompt.
    /// </summary>
    public override AggregationOutcome Aggregate(int round, Prompt globalPrompt, IReadOnlyList<UpdateRecord> updates)
    {
        if (updates.Count == 1)
        {
            var only = ((DiscretePrompt)updates[0].Prompt).TokenIds;
            return new(Models.TokenPrompt(only), new { prompt_length = only.Count, single_update = updates[0].ClientId });
        }
        var vocabulary = Models.Vocabulary;
        var uploads = updates.Select(u =>
        {
            var ids = ((DiscretePrompt)u.Prompt).TokenIds;
            return new TokenPromptUpload(u.ClientId, ids.Zip(vocabulary.Embed(ids), (id, vector) => new PromptToken(id, vector)).ToList(), u.ExampleCount);
        }).ToList();
        var tokens = rule(Models).Aggregate(uploads);
        var ids = tokens.TokenIds.ToList();
        if (ids.Count == 0)
            return new(globalPrompt, new { prompt_length = globalPrompt.Length, kept_previous = "the aggregation kept no token", aggregation = AggregationNotesJson.Of(tokens.Notes, 0) });
        return new(Models.TokenPrompt(ids), AggregationNotesJson.Of(tokens.Notes, ids.Count));
    }

    /// <summary>The aggregation rule's settings from the run configuration and its models.</summary>
    public static TokenAggregationOptions RuleOptions(RunConfig config, RunModels models) => new(
        config.AggregationMinSamples, PromptLength: config.AggregationMaxLength ?? models.Facts.MaxPromptLength, Seed: config.Seed,
        Vocabulary: models.Vocabulary, Eps: config.AggregationEpsRule, K: config.AggregationK);
}
