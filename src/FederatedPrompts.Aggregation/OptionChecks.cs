namespace FederatedPrompts.Aggregation;

/// <summary>Range checks for strategy options, so a bad setting fails where it is made rather than mid-aggregation.</summary>
static class OptionChecks
{
    public static int AtLeastOne(int value, string name) =>
        value >= 1 ? value : throw new ArgumentOutOfRangeException(name, value, "must be at least 1");

    public static int? AtLeastOne(int? value, string name) => value is { } set ? AtLeastOne(set, name) : null;
}
