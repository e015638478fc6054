using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Tokens;

/// <summary>Turns one round's discrete-prompt uploads into the next global prompt. <see cref="TokenAggregationStrategies"/> creates them by name.</summary>
public interface ITokenAggregationStrategy
{
    /// <summary>The name it is selected by: "feddtpt", "fedavg", "attention" or "kmeans".</summary>
    string Name { get; }

    /// <summary>Validates the uploads (<see cref="UploadValidation"/>, ArgumentException on bad input) and aggregates them.</summary>
    GlobalTokenPrompt Aggregate(IReadOnlyList<TokenPromptUpload> uploads);
}
