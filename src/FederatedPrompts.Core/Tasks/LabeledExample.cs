namespace FederatedPrompts.Core.Tasks;

/// <summary>One classification example: the input text and its label name.</summary>
public sealed record LabeledExample(string Text, string Label);
