namespace FederatedPrompts.Core.Tasks;

/// <summary>
/// The default template, verbalizer and soft-prompt init text of a known task. Label words and init texts follow the
/// official POST code (sprintml/POST scripts/constants.py: TEXT_LABEL_DICT, INIT_TEXT_DICT) where it has the task.
/// A class is scored by the first token of its label words, so the classifier drops a word that is not one token of
/// the model's tokenizer (the 4,096-token Brown vocabulary lacks " awesome" and " spam" and spells them from bytes,
/// beginning with a bare space every class would share); every class here keeps at least one word that is a single
/// token of GPT-2 and of that vocabulary (trec's abbreviation class " short", spam's " advertising" / " personal").
/// <para>
/// <see cref="Descriptions"/> are what the sentence-encoder black box ("minilm") compares an input with. Where the
/// template's closing and a label word make a sentence that reads like the input's answer, that sentence is the
/// description (sentiment: "It was" + " great" → "It was great."); measured with all-MiniLM-L6-v2 on 200 seeded sst2 test
/// sentences without a prompt, it gives 70.0 %, where the bare words "great"/"terrible" give 63.0 % and "It was
/// positive."/"It was negative." 66.5 % (the issue's 400 sentences: 74.5 % and 63.0 %). Where it does not, the
/// descriptions are written for the encoder (trec: the question each answer type answers, 64.0 % on 200 test questions
/// against 55.5 % for "Answer type: person." and the like). On spam no description tried beat the majority class (the
/// encoder measures what a message is about, not whether it is wanted), so it keeps the template's sentence, 48.0 %
/// (docs/ARCHITECTURE.md, "FedDTPT client", lists every variant measured).
/// </para>
/// </summary>
public sealed record TaskPreset(string Name, PromptTemplate Template, Verbalizer Verbalizer, string InitText, LabelDescriptions Descriptions)
{
    static Verbalizer Words(params (string Label, string[] Words)[] classes) =>
        new(classes.Select(c => KeyValuePair.Create(c.Label, (IReadOnlyList<string>)c.Words)));

    static LabelDescriptions Described(params (string Label, string Description)[] classes) =>
        new(classes.Select(c => KeyValuePair.Create(c.Label, c.Description)));

    /// <summary>The sentiment presets' descriptions: the template's closing "It was" with " great" and " terrible".</summary>
    static readonly LabelDescriptions GreatOrTerrible = Described(("positive", "It was great."), ("negative", "It was terrible."));

    public static readonly TaskPreset Sst2 = new("sst2", new("{text} It was"), Words(
            ("positive", [" positive", " good", " great", " awesome", " brilliant", " amazing"]),
            ("negative", [" terrible", " negative", " bad", " poor", " awful"])),
        "Predict if sentiment of this review is positive or negative", GreatOrTerrible);

    /// <summary>
    /// IMDb movie reviews (shared/data/tasks/imdb): the same two sentiments as sst2, so sst2's template, label words, init
    /// text and descriptions (75.0 % with the "minilm" black box on 200 seeded test reviews, cut to the encoder's 256 word pieces).
    /// </summary>
    public static readonly TaskPreset Imdb = Sst2 with { Name = "imdb" };

    public static readonly TaskPreset Trec = new("trec", new("{text} Answer type:"), Words(
            ("abbreviation", [" short", " acronym"]), ("entity", [" thing", " entity"]),
            ("description", [" description", " concept"]), ("human", [" person", " human"]),
            ("location", [" place", " location"]), ("number", [" number"])),
        "Predict the topic of the question",
        Described(("abbreviation", "What does the abbreviation stand for?"), ("entity", "What thing is it?"), ("description", "What is it and why?"),
            ("human", "Who is the person?"), ("location", "Where is the place?"), ("number", "How many, how much, or when?")));

    public static readonly TaskPreset Spam = new("spam", new("{text} This message is"), Words(
            ("spam", [" advertising", " spam", " junk"]), ("ham", [" personal", " legitimate", " normal"])),
        "Predict if this text message is spam or a normal personal message",
        Described(("spam", "This message is advertising."), ("ham", "This message is personal.")));

    /// <summary>
    /// The built-in task of <see cref="Synthetic.SyntheticSentimentTask"/>: its corpus ends reviews with " It was great." or
    /// " It was terrible.", so those two words are the label words (both single tokens of the generated vocabulary), and
    /// those sentences the descriptions.
    /// </summary>
    public static readonly TaskPreset SyntheticSentiment = new("synthetic-sentiment", new("{text} It was"), Words(
            ("positive", [" great"]), ("negative", [" terrible"])),
        "Predict if sentiment of this review is great or terrible", GreatOrTerrible);

    public static IReadOnlyList<TaskPreset> All { get; } = [Sst2, Imdb, Trec, Spam, SyntheticSentiment];

    public static TaskPreset? Find(string name) =>
        All.FirstOrDefault(preset => string.Equals(preset.Name, name, StringComparison.OrdinalIgnoreCase));

    public static TaskPreset Get(string name) => Find(name) ?? throw new ArgumentException(
        $"no preset for task '{name}' (known: {string.Join(", ", All.Select(preset => preset.Name))})", nameof(name));
}
