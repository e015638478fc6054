namespace FederatedPrompts.Core.Tasks;

/// <summary>
/// The default template, verbalizer and soft-prompt init text of a known task. Label words and init texts follow the
/// official POST code (sprintml/POST scripts/constants.py: TEXT_LABEL_DICT, INIT_TEXT_DICT) where it has the task.
/// A class is scored by the first token of its label words, so the classifier drops a word that is not one token of
/// the model's tokenizer (the 4,096-token Brown vocabulary lacks " awesome" and " spam" and spells them from bytes,
/// beginning with a bare space every class would share); every class here keeps at least one word that is a single
/// token of GPT-2 and of that vocabulary (trec's abbreviation class " short", spam's " advertising" / " personal").
/// </summary>
public sealed record TaskPreset(string Name, PromptTemplate Template, Verbalizer Verbalizer, string InitText)
{
    static Verbalizer Words(params (string Label, string[] Words)[] classes) =>
        new(classes.Select(c => KeyValuePair.Create(c.Label, (IReadOnlyList<string>)c.Words)));

    public static readonly TaskPreset Sst2 = new("sst2", new("{text} It was"), Words(
            ("positive", [" positive", " good", " great", " awesome", " brilliant", " amazing"]),
            ("negative", [" terrible", " negative", " bad", " poor", " awful"])),
        "Predict if sentiment of this review is positive or negative");

    public static readonly TaskPreset Trec = new("trec", new("{text} Answer type:"), Words(
            ("abbreviation", [" short", " acronym"]), ("entity", [" thing", " entity"]),
            ("description", [" description", " concept"]), ("human", [" person", " human"]),
            ("location", [" place", " location"]), ("number", [" number"])),
        "Predict the topic of the question");

    public static readonly TaskPreset Spam = new("spam", new("{text} This message is"), Words(
            ("spam", [" advertising", " spam", " junk"]), ("ham", [" personal", " legitimate", " normal"])),
        "Predict if this text message is spam or a normal personal message");

    /// <summary>
    /// The built-in task of <see cref="Synthetic.SyntheticSentimentTask"/>: its corpus ends reviews with " It was great." or
    /// " It was terrible.", so those two words are the label words (both single tokens of the generated vocabulary).
    /// </summary>
    public static readonly TaskPreset SyntheticSentiment = new("synthetic-sentiment", new("{text} It was"), Words(
            ("positive", [" great"]), ("negative", [" terrible"])),
        "Predict if sentiment of this review is great or terrible");

    public static IReadOnlyList<TaskPreset> All { get; } = [Sst2, Trec, Spam, SyntheticSentiment];

    public static TaskPreset? Find(string name) =>
        All.FirstOrDefault(preset => string.Equals(preset.Name, name, StringComparison.OrdinalIgnoreCase));

    public static TaskPreset Get(string name) => Find(name) ?? throw new ArgumentException(
        $"no preset for task '{name}' (known: {string.Join(", ", All.Select(preset => preset.Name))})", nameof(name));
}
