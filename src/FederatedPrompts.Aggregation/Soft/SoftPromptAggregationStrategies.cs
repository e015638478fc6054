namespace FederatedPrompts.Aggregation.Soft;

/// <summary>The soft-prompt strategies by name, for configuration and the command line.</summary>
public static class SoftPromptAggregationStrategies
{
    public static IReadOnlyList<string> Names { get; } = ["feddtpt", "fedavg", "median", "trimmed-mean", "krum"];

    /// <summary>The strategy called <paramref name="name"/> (case-insensitive); ArgumentException listing the known names otherwise.</summary>
    public static ISoftPromptAggregationStrategy Create(string name, SoftAggregationOptions? options = null) => name.ToLowerInvariant() switch
    {
        "feddtpt" => new FedDtptSoftStrategy(options ?? new SoftAggregationOptions()),
        "fedavg" => new FedAvgSoftStrategy(),
        "median" => CoordinateWiseSoftStrategy.Median(),
        "trimmed-mean" => CoordinateWiseSoftStrategy.TrimmedMean((options ?? new SoftAggregationOptions()).TrimFraction),
        "krum" => new KrumSoftStrategy(),
        _ => throw new ArgumentException($"unknown soft prompt aggregation strategy '{name}' (known: {string.Join(", ", Names)})"),
    };
}
