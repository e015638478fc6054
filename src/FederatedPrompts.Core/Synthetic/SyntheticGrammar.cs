namespace FederatedPrompts.Core.Synthetic;

/// <summary>
/// A small seeded English grammar (a few hundred words) shared by <see cref="SyntheticCorpus"/> and
/// <see cref="SyntheticSentimentTask"/>: short stories, questions with answers, descriptions and reviews.
/// Reviews are built from aspect clauses whose sentiment comes from an adjective, possibly negated
/// ("the food was not fresh"), so the same cues mean the same thing in the corpus and in the task.
/// </summary>
sealed class SyntheticGrammar(Random random)
{
    sealed record Reviewed(string Noun, string Experience, string[] Aspects);

    static readonly string[] Names =
        ["Anna", "Ben", "Tom", "Lily", "Sam", "Mia", "Jack", "Emma", "Leo", "Rosa", "Max", "Nora", "Paul", "Ruth", "Omar", "Kate"];
    static readonly string[] People =
    [
        "farmer", "teacher", "baker", "doctor", "captain", "painter", "sailor", "driver", "nurse", "king",
        "queen", "girl", "boy", "man", "woman", "child", "neighbor", "cook", "dog", "cat", "horse", "bird", "fox", "goat",
    ];
    static readonly string[] Things =
    [
        "ball", "box", "boat", "hat", "cake", "lamp", "key", "letter", "kite", "basket", "bike", "map", "coat", "cup",
        "chair", "bell", "drum", "rope", "shoe", "apple", "clock", "ring", "stone", "flag", "bottle", "blanket", "wagon",
    ];
    static readonly string[] Looks =
    [
        "red", "blue", "green", "yellow", "big", "small", "old", "new", "heavy", "soft", "shiny", "wooden", "tiny",
        "round", "long", "dirty", "clean", "broken", "empty", "strange",
    ];
    /// <summary>Past tense and base form, for statements and questions.</summary>
    static readonly (string Past, string Base)[] Verbs =
    [
        ("found", "find"), ("carried", "carry"), ("painted", "paint"), ("lost", "lose"), ("opened", "open"),
        ("bought", "buy"), ("washed", "wash"), ("fixed", "fix"), ("dropped", "drop"), ("hid", "hide"),
        ("took", "take"), ("sold", "sell"), ("made", "make"), ("saw", "see"), ("pulled", "pull"), ("gave away", "give away"),
    ];
    static readonly string[] Places =
    [
        "in the park", "near the river", "at the market", "in the kitchen", "by the sea", "in the garden", "at school",
        "on the hill", "in the forest", "at the station", "under the bridge", "behind the house", "in the village", "on the farm",
    ];
    static readonly string[] Times =
    [
        "in the morning", "after lunch", "on Sunday", "at night", "last summer", "one day", "before dinner",
        "in the spring", "on Monday", "last week", "yesterday", "in the evening",
    ];
    static readonly string[] Feelings = ["happy", "sad", "tired", "surprised", "proud", "hungry", "sleepy", "calm", "angry", "afraid", "glad"];
    static readonly string[] Weather = ["cold", "warm", "windy", "rainy", "sunny", "quiet", "dark", "bright", "long", "short"];
    static readonly string[] Days = ["day", "night", "morning", "evening", "winter", "summer", "road", "room", "sky", "water"];

    static readonly Reviewed[] ReviewedThings =
    [
        new("movie", "watched", ["acting", "story", "music", "ending", "jokes", "camera work"]),
        new("book", "read", ["plot", "characters", "writing", "ending", "cover"]),
        new("restaurant", "went to", ["food", "service", "soup", "staff", "coffee", "bread"]),
        new("hotel", "stayed at", ["room", "staff", "bed", "view", "breakfast", "pool"]),
        new("album", "listened to", ["songs", "voice", "lyrics", "sound", "drums"]),
        new("game", "played", ["levels", "controls", "graphics", "story", "music"]),
        new("show", "saw", ["actors", "songs", "stage", "ending", "costumes"]),
        new("cafe", "visited", ["coffee", "cake", "music", "staff", "tea"]),
        new("phone", "bought", ["screen", "battery", "camera", "sound", "price"]),
    ];
    /// <summary>Sentiment cues; deliberately without the verbalizer words " great" and " terrible".</summary>
    static readonly string[] PositiveWords =
    [
        "wonderful", "lovely", "brilliant", "excellent", "charming", "delightful", "beautiful", "superb", "fun",
        "fresh", "clever", "perfect", "good", "nice", "amazing", "pleasant",
    ];
    static readonly string[] NegativeWords =
    [
        "awful", "boring", "dull", "poor", "bad", "ugly", "weak", "slow", "rude", "bland", "silly", "messy",
        "horrible", "dreadful", "clumsy", "annoying",
    ];
    static readonly string[] Intensifiers = ["very", "really", "quite", "so"];

    T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];
    bool Chance(double probability) => random.NextDouble() < probability;

    static string Capitalize(string text) => char.ToUpperInvariant(text[0]) + text[1..];

    /// <summary>A name or "the farmer".</summary>
    string Someone() => Chance(0.5) ? Pick(Names) : "the " + Pick(People);

    /// <summary>"a red ball", "an old box" or "the ball".</summary>
    string Something()
    {
        if (Chance(0.3)) return "the " + Pick(Things);
        var phrase = Pick(Looks) + " " + Pick(Things);
        return ("aeiou".Contains(phrase[0]) ? "an " : "a ") + phrase;
    }

    public string Story()
    {
        var who = Someone();
        var (past, _) = Pick(Verbs);
        var sentences = new List<string> { $"{Capitalize(Pick(Times))}, {who} {past} {Something()} {Pick(Places)}." };
        if (Chance(0.7)) sentences.Add($"{Capitalize(who)} was {Pick(Feelings)}.");
        if (Chance(0.5)) sentences.Add($"Then {who} {Pick(Verbs).Past} {Something()}.");
        return string.Join(" ", sentences);
    }

    public string QuestionWithAnswer()
    {
        var who = Someone();
        var (past, verbBase) = Pick(Verbs);
        var thing = Pick(Things);
        var place = Pick(Places);
        return random.Next(3) switch
        {
            0 => $"Where did {who} {verbBase} the {thing}? {Capitalize(who)} {past} it {place}.",
            1 => $"Who {past} the {thing}? {Capitalize(who)} did.",
            _ => $"What did {who} {verbBase} {place}? {Capitalize(who)} {past} {Something()}.",
        };
    }

    /// <summary>The rest of a diary's "It was great/terrible ..." remark about the day, e.g. "to see Anna again".</summary>
    public string DayRemark() => random.Next(5) switch
    {
        0 => $"to see {Pick(Names)} again",
        1 => $"weather {Pick(Places)}",
        2 => $"to be home {Pick(Times)}",
        3 => $"news about the {Pick(Things)}",
        _ => $"luck with the {Pick(Things)}",
    };

    static readonly string[] DiaryHeadings = ["Notes:", "Today:", "Later:", "Diary:", "Weekend:", "Home:", "Also:"];

    /// <summary>
    /// What a diary entry may open with: a greeting, a time or a heading with a colon, a time and place, or a line about
    /// someone. Varied on purpose, so that neither "some text before the review" nor "a word and a colon" marks a critic.
    /// </summary>
    public string DiaryOpening() => random.Next(5) switch
    {
        0 => "Dear diary,",
        1 => $"{Capitalize(Pick(Times))}:",
        2 => Pick(DiaryHeadings),
        3 => $"{Capitalize(Pick(Times))}, {Pick(Places)}.",
        _ => $"{Pick(Names)} was {Pick(Feelings)}.",
    };

    public string Description() => random.Next(2) == 0
        ? $"The {Pick(Things)} was {Pick(Looks)} and {Pick(Looks)}."
        : $"The {Pick(Days)} was {Pick(Weather)}. {Capitalize(Someone())} felt {Pick(Feelings)}.";

    /// <summary>
    /// A review whose sentiment is <paramref name="positive"/>: an optional opening, then one to three aspect clauses
    /// for that sentiment; when <paramref name="mixed"/>, first a clause of the other sentiment and "but". About one
    /// clause in four says it by negating an opposite word ("was not dull").
    /// </summary>
    public string Review(bool positive, bool mixed)
    {
        var item = Pick(ReviewedThings);
        var aspects = item.Aspects.ToArray();
        random.Shuffle(aspects);
        var supporting = random.Next(1, mixed ? 3 : 4);
        var clauses = Enumerable.Range(0, supporting).Select(i => Clause(aspects[i], positive)).ToList();
        var body = clauses.Count switch
        {
            1 => clauses[0],
            2 => $"{clauses[0]} and {clauses[1]}",
            _ => $"{clauses[0]}, {clauses[1]} and {clauses[2]}",
        };
        if (mixed) body = $"{Clause(aspects[supporting], !positive)}, but {body}";
        var review = Capitalize(body) + ".";
        return Chance(0.5) ? $"I {item.Experience} the {item.Noun} {Pick(Times)}. {review}" : review;
    }

    string Clause(string aspect, bool positive)
    {
        var verb = aspect.EndsWith('s') ? "were" : "was";
        if (Chance(0.25)) return $"the {aspect} {verb} not {Pick(positive ? NegativeWords : PositiveWords)}";
        var intensifier = Chance(0.3) ? Pick(Intensifiers) + " " : "";
        return $"the {aspect} {verb} {intensifier}{Pick(positive ? PositiveWords : NegativeWords)}";
    }
}
