namespace FederatedPrompts.Aggregation.Tokens;

/// <summary>The token strategies by name, for configuration and the command line.</summary>
public static class TokenAggregationStrategies
{
    public static IReadOnlyList<string> Names { get; } = ["feddtpt", "fedavg", "attention", "kmeans"];

    /// <summary>The strategy called <paramref name="name"/> (case-insensitive); ArgumentException listing the known names otherwise.</summary>
    public static ITokenAggregationStrategy Create(string name, TokenAggregationOptions? options = null)
    {
        options ??= new TokenAggregationOptions();
        return name.ToLowerInvariant() switch
        {
            "feddtpt" => new FedDtptTokenStrategy(options),
            "fedavg" => new FedAvgTokenStrategy(options),
            "attention" => new AttentionTokenStrategy(options),
            "kmeans" => new KMeansTokenStrategy(options),
            _ => throw new ArgumentException($"unknown token aggregation strategy '{name}' (known: {string.Join(", ", Names)})"),
        };
    }
}
