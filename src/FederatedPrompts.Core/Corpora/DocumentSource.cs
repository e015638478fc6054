namespace FederatedPrompts.Core.Corpora;

/// <summary>
/// Documents that can be read any number of times, in the same order each time, without being held in memory when they
/// come from a file (<see cref="TextCorpus.Open"/>). Training reads its corpus in a few passes (count, tokenizer, token ids).
/// </summary>
public sealed class DocumentSource(string name, Func<IEnumerable<string>> read)
{
    /// <summary>Where the documents come from (a path, or "documents in memory"), for messages.</summary>
    public string Name { get; } = name;

    public IEnumerable<string> Read() => read();

    public static DocumentSource Of(IReadOnlyList<string> documents) => new("documents in memory", () => documents);

    /// <summary>
    /// A seeded uniform sample of <paramref name="count"/> documents, in source order, from one streamed pass (reservoir
    /// sampling holds only the sample).
    /// </summary>
    public IReadOnlyList<string> Sample(int count, int seed)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), $"a sample needs a positive size, got {count}");
        var random = new Random(seed);
        var reservoir = new List<(int Index, string Text)>(count);
        int seen = 0;
        foreach (var document in Read())
        {
            if (reservoir.Count < count) reservoir.Add((seen, document));
            else if (random.Next(seen + 1) is var slot && slot < count) reservoir[slot] = (seen, document);
            seen++;
        }
        if (seen < count) throw new ArgumentException($"{Name}: {seen} documents, fewer than the {count} asked for");
        return reservoir.OrderBy(d => d.Index).Select(d => d.Text).ToList();
    }
}

/// <summary>
/// A seeded split of a document source into training and held-out documents, by document, so held-out text is never seen
/// in training. The held-out documents are the first of a seeded shuffle of the indices; both sides are read in source order.
/// </summary>
public sealed class DocumentSplit
{
    readonly DocumentSource _source;
    readonly bool[] _heldOut;

    DocumentSplit(DocumentSource source, bool[] heldOut) => (_source, _heldOut) = (source, heldOut);

    public int Count => _heldOut.Length;
    public int HeldOutCount => _heldOut.Count(h => h);

    /// <summary>Counts the documents (one pass) and holds out round(count · fraction) of them, at least one each side.</summary>
    public static DocumentSplit Of(DocumentSource source, double heldOutFraction, int seed)
    {
        if (heldOutFraction <= 0 || heldOutFraction >= 1) throw new ArgumentException($"held-out fraction {heldOutFraction} must lie in (0,1)");
        int count = source.Read().Count();
        if (count < 2) throw new ArgumentException($"{source.Name}: {count} document(s); training needs at least two (one is held out)");
        var order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        int heldOut = Math.Clamp((int)Math.Round(count * heldOutFraction), 1, count - 1);
        var mask = new bool[count];
        foreach (var i in order.Take(heldOut)) mask[i] = true;
        return new DocumentSplit(source, mask);
    }

    public IEnumerable<string> Train() => Side(heldOut: false);

    public IEnumerable<string> HeldOut() => Side(heldOut: true);

    IEnumerable<string> Side(bool heldOut)
    {
        int index = 0;
        foreach (var document in _source.Read())
        {
            // The source must read the same documents on every pass, or the split would silently mix sides.
            if (index >= _heldOut.Length) throw new InvalidOperationException($"{_source.Name}: more documents than the {_heldOut.Length} counted; did it change?");
            if (_heldOut[index++] == heldOut) yield return document;
        }
        if (index != _heldOut.Length) throw new InvalidOperationException($"{_source.Name}: {index} documents, not the {_heldOut.Length} counted; did it change?");
    }
}
