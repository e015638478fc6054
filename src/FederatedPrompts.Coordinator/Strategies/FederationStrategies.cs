using FederatedPrompts.Aggregation.Soft;
using FederatedPrompts.Aggregation.Tokens;
using FederatedPrompts.Coordinator.Models;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Coordinator.Strategies;

/// <summary>
/// The strategies a run may name (soft.strategy, discrete.strategy), by mode. Every aggregation rule registered in
/// <see cref="SoftPromptAggregationStrategies"/> or <see cref="TokenAggregationStrategies"/> is a strategy here with the
/// standard sampling, client settings, evaluation and transfer; so a new rule is one file plus its line there. A strategy
/// that also changes the rest (its own sampling, per-client settings or transfer cadence) subclasses
/// <see cref="FederationStrategy"/> (or <see cref="SoftPromptStrategy"/> / <see cref="TokenPromptStrategy"/>) and is added to
/// <see cref="Registered"/>.
/// </summary>
public static class FederationStrategies
{
    delegate FederationStrategy Factory(RunConfig config, Lazy<RunModels> models);

    static readonly IReadOnlyList<(PromptMode Mode, string Name, Factory Create)> Registered =
    [
        .. SoftPromptAggregationStrategies.Names.Select(name => (PromptMode.Soft, name, (Factory)((config, models) =>
            new SoftPromptStrategy(name, config, models, SoftPromptAggregationStrategies.Create(name, SoftPromptStrategy.RuleOptions(config)))))),
        .. TokenAggregationStrategies.Names.Select(name => (PromptMode.Discrete, name, (Factory)((config, models) =>
            new TokenPromptStrategy(name, config, models, loaded => TokenAggregationStrategies.Create(name, TokenPromptStrategy.RuleOptions(config, loaded)))))),
    ];

    /// <summary>The names of the strategies for clients of <paramref name="mode"/>.</summary>
    public static IReadOnlyList<string> Names(PromptMode mode) => Registered.Where(r => r.Mode == mode).Select(r => r.Name).ToList();

    /// <summary>The strategy the run configures for <paramref name="mode"/>; ArgumentException for a name not registered for that mode.</summary>
    public static FederationStrategy Create(PromptMode mode, RunConfig config, Lazy<RunModels> models)
    {
        string name = config.StrategyFor(mode);
        var registration = Registered.FirstOrDefault(r => r.Mode == mode && r.Name == name.ToLowerInvariant());
        return registration.Create is { } create
            ? create(config, models)
            : throw new ArgumentException($"{Prompt.NameOf(mode)}.strategy \"{name}\" is not one of {string.Join(", ", Names(mode))}");
    }

    /// <summary>One strategy per mode of the run.</summary>
    public static IReadOnlyDictionary<PromptMode, FederationStrategy> ForRun(RunConfig config, Lazy<RunModels> models) =>
        config.Modes.ToDictionary(mode => mode, mode => Create(mode, config, models));
}
