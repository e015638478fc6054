namespace FederatedPrompts.Core.Corpora;

/// <summary>
/// Unlabeled texts from a file the operator declares public: the only input POST transfer accepts. There is
/// deliberately no conversion from a <see cref="Tasks.TaskDataset"/> (a client's labeled, private data), so
/// transfer cannot be handed private examples by mistake; it needs no labels either.
/// </summary>
public sealed class PublicTexts
{
    public IReadOnlyList<string> Texts { get; }
    /// <summary>The public file the texts came from (recorded in reports).</summary>
    public string Source { get; }

    PublicTexts(IReadOnlyList<string> texts, string source)
    {
        if (texts.Count == 0) throw new ArgumentException($"{source}: no public texts");
        Texts = texts;
        Source = source;
    }

    /// <summary>A corpus file (JSONL "text" or .txt); a public task file's JSONL works too, its labels unread.</summary>
    public static PublicTexts Load(string path, int? limit = null, int seed = 1)
    {
        var texts = TextCorpus.Load(path);
        if (limit is int n && n < texts.Count)
        {
            var order = Enumerable.Range(0, texts.Count).ToArray();
            new Random(seed).Shuffle(order);
            texts = order.Take(n).Select(i => texts[i]).ToList();
        }
        return new PublicTexts(texts, path);
    }
}
