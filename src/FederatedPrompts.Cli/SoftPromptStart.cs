using System.CommandLine;
using FederatedPrompts.Modeling.Classification;

namespace FederatedPrompts.Cli;

/// <summary>
/// --init-text and --random-init: where a soft prompt starts. By default from the task preset's init text (the official POST
/// code initialises prompts from a task sentence, PEFT's TEXT init); --random-init gives seeded random vocabulary tokens.
/// </summary>
public sealed class SoftPromptStart(string initTextDescription = "Initialise the prompt from this text's token embeddings, repeated to the length (default: the preset's init text)")
{
    public readonly Option<string?> InitText = new("--init-text") { Description = initTextDescription };
    public readonly Option<bool> RandomInit = new("--random-init") { Description = "Initialise from seeded random vocabulary tokens instead of a text" };

    public IEnumerable<Option> Options => [InitText, RandomInit];

    /// <summary>The init text to use; null for seeded random tokens (asked for, or no preset to take a text from).</summary>
    public string? Resolve(ParseResult parse, string? presetText)
    {
        string? given = parse.GetValue(InitText);
        bool random = parse.GetValue(RandomInit);
        if (given is not null && random) throw new UserInputException("give at most one of --init-text and --random-init");
        if (given is not null && string.IsNullOrWhiteSpace(given)) throw new UserInputException("--init-text is blank");
        return random ? null : given ?? presetText;
    }

    /// <summary>What the prompt starts from, for reports: the text in quotes, or "seeded random tokens".</summary>
    public static string Describe(string? initText) => initText is null ? "seeded random tokens" : $"\"{initText}\"";
}

/// <summary>Prints, once each, the label words the classifiers leave out (<see cref="PromptedClassifier.DroppedWords"/>) as warnings on stderr.</summary>
public static class LabelWordWarnings
{
    public static void Print(params PromptedClassifier[] classifiers)
    {
        foreach (var message in classifiers.SelectMany(c => c.DroppedWords).Select(d => d.ToString()).Distinct())
            Console.Error.WriteLine($"warning: {message} (a class is scored by its one-token words)");
    }
}
