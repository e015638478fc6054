using FederatedPrompts.Coordinator.Models;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Modeling.Classification;

namespace FederatedPrompts.Coordinator.Strategies;

/// <summary>A mode's new global prompt from a round's updates, with notes for the run's report.</summary>
public sealed record AggregationOutcome(Prompt GlobalPrompt, object Notes);

/// <summary>
/// One federated algorithm for the clients of one mode, in the manner of Flower's Strategy: it decides which clients
/// train in a round (<see cref="SampleClients"/>), what each is told to do (<see cref="ConfigureClient"/>), how the
/// accepted updates become the next global prompt (<see cref="Aggregate"/>), how a global prompt is evaluated and when
/// it is transferred to the large model. The round engine, the store and the services know only this seam: they keep
/// the state, check uploads and talk to clients. A run has one strategy per mode (two in a hybrid run); they are
/// registered by name in <see cref="FederationStrategies"/>.
/// </summary>
public abstract class FederationStrategy(string name, PromptMode mode, RunConfig config, Lazy<RunModels> models)
{
    public string Name => name;
    public PromptMode Mode => mode;
    protected RunConfig Config => config;
    /// <summary>The run's models, loaded on first use (sampling and configuring clients never need them).</summary>
    protected RunModels Models => models.Value;

    /// <summary>
    /// The clients (of this strategy's mode) that train in round <paramref name="round"/>: max(min_clients, ⌈fraction·n⌉)
    /// of <paramref name="enrolled"/>, a seeded choice per round, so a restarted coordinator makes the same one.
    /// </summary>
    public virtual IReadOnlyList<string> SampleClients(IReadOnlyList<string> enrolled, int round)
    {
        int count = Math.Min(enrolled.Count, Math.Max(Config.MinClients, (int)Math.Ceiling(Config.Fraction * enrolled.Count)));
        var random = new Random(unchecked(Config.Seed * 1_000_003 + round));
        return enrolled.Order(StringComparer.Ordinal).OrderBy(_ => random.Next()).Take(count).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>What one sampled client does in round <paramref name="round"/>; <paramref name="seed"/> is the client's own for the round.</summary>
    public abstract LocalWork ConfigureClient(string clientId, int seed, int round);

    /// <summary>The first global prompt.</summary>
    public virtual Prompt InitialPrompt() => Models.InitialPrompt(Mode);

    /// <summary>The next global prompt from the round's accepted updates (all of this mode, at least min_clients of them).</summary>
    public abstract AggregationOutcome Aggregate(int round, Prompt globalPrompt, IReadOnlyList<UpdateRecord> updates);

    /// <summary>Held-out accuracy of a global prompt, after every round.</summary>
    public virtual ClassificationResult Evaluate(Prompt globalPrompt) => Models.Evaluate(globalPrompt);

    /// <summary>Whether the global prompt after round <paramref name="round"/> (not the last) is also transferred to the large model, for the report.</summary>
    public virtual bool TransfersAfter(int round) => false;

    /// <summary>Whether the final global prompt is transferred to the large model before it is published (POST); otherwise it is published as it is.</summary>
    public virtual bool TransfersAtEnd => false;

    /// <summary>The large model's prompt from the final global prompt, with the transfer's outcome for the report (when <see cref="TransfersAtEnd"/>).</summary>
    public virtual (Prompt LargePrompt, object Outcome) Transfer(Prompt globalPrompt) =>
        throw new InvalidOperationException($"the {Name} strategy of {Prompt.NameOf(Mode)} prompts does not transfer");
}
