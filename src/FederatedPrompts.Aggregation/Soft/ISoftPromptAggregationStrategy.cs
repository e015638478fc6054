using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Soft;

/// <summary>Turns one round's soft-prompt uploads into the next global soft prompt. <see cref="SoftPromptAggregationStrategies"/> creates them by name.</summary>
public interface ISoftPromptAggregationStrategy
{
    /// <summary>The name it is selected by: "feddtpt", "fedavg", "median" or "trimmed-mean".</summary>
    string Name { get; }

    /// <summary>Validates the uploads (<see cref="UploadValidation"/>, ArgumentException on bad input) and aggregates them.</summary>
    GlobalSoftPrompt Aggregate(IReadOnlyList<SoftPromptUpload> uploads);
}
