namespace FederatedPrompts.Core.Tasks;

/// <summary>
/// The default template and verbalizer of a known task. A class is scored by the first token of its label words, so
/// every word here is one token both in GPT-2's vocabulary and in the 4,096-token vocabulary of the project's Brown
/// teacher (words such as " abbreviation" or " spam" are not, and begin with a bare space there: trec's abbreviation
/// class says " short", spam's classes " advertising" and " personal").
/// </summary>
public sealed record TaskPreset(string Name, PromptTemplate Template, Verbalizer Verbalizer)
{
    static Verbalizer Words(params (string Label, string Word)[] pairs) =>
        new(pairs.Select(pair => KeyValuePair.Create(pair.Label, (IReadOnlyList<string>)[pair.Word])));

    static readonly Verbalizer Sentiment = Words(("positive", " great"), ("negative", " terrible"));

    public static readonly TaskPreset Sst2 = new("sst2", new("{text} It was"), Sentiment);

    public static readonly TaskPreset Trec = new("trec", new("{text} Answer type:"), Words(
        ("abbreviation", " short"), ("entity", " thing"), ("description", " description"),
        ("human", " person"), ("location", " place"), ("number", " number")));

    public static readonly TaskPreset Spam = new("spam", new("{text} This message is"),
        Words(("spam", " advertising"), ("ham", " personal")));

    /// <summary>The built-in task of <see cref="Synthetic.SyntheticSentimentTask"/>.</summary>
    public static readonly TaskPreset SyntheticSentiment = new("synthetic-sentiment", new("{text} It was"), Sentiment);

    public static IReadOnlyList<TaskPreset> All { get; } = [Sst2, Trec, Spam, SyntheticSentiment];

    public static TaskPreset? Find(string name) =>
        All.FirstOrDefault(preset => string.Equals(preset.Name, name, StringComparison.OrdinalIgnoreCase));

    public static TaskPreset Get(string name) => Find(name) ?? throw new ArgumentException(
        $"no preset for task '{name}' (known: {string.Join(", ", All.Select(preset => preset.Name))})", nameof(name));
}
