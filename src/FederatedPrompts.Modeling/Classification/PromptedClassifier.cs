using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Classification;

/// <summary>
/// A prompt to classify with: soft vectors [k,H] (or [B,k,H], one copy per input) and/or discrete tokens, both
/// placed before the templated text.
/// </summary>
/// <param name="DiscretePerRow">A discrete prompt for each input instead of one for all (an inference service batching
/// queries of several clients, each with its own prompt); excludes <paramref name="Discrete"/>.</param>
public sealed record PromptInput(Tensor? Soft = null, IReadOnlyList<int>? Discrete = null, IReadOnlyList<IReadOnlyList<int>>? DiscretePerRow = null)
{
    public static readonly PromptInput None = new();
}

public sealed record ClassificationResult(double Accuracy, int Count, int[,] Confusion, IReadOnlyList<string> Labels, IReadOnlyList<int> Predictions)
{
    /// <summary>Accuracy and confusion matrix of <paramref name="predictions"/> against <paramref name="truth"/>, both indices into <paramref name="labels"/>.</summary>
    public static ClassificationResult Of(IReadOnlyList<string> labels, IReadOnlyList<int> truth, IReadOnlyList<int> predictions)
    {
        if (truth.Count != predictions.Count) throw new ArgumentException($"{truth.Count} true labels but {predictions.Count} predictions");
        var confusion = new int[labels.Count, labels.Count];
        int correct = 0;
        for (int i = 0; i < truth.Count; i++)
        {
            confusion[truth[i], predictions[i]]++;
            if (truth[i] == predictions[i]) correct++;
        }
        return new ClassificationResult(truth.Count == 0 ? 0 : (double)correct / truth.Count, truth.Count, confusion, labels, predictions);
    }

    /// <summary>Mean per-class recall: torchmetrics' MulticlassAccuracy with its default average="macro".</summary>
    public double MacroAccuracy { get; } = MacroAccuracyOf(Confusion);

    /// <summary>
    /// Mean over classes of recall = correct / true count, from a confusion matrix (rows: true label, columns: predicted). As
    /// torchmetrics does, a class that neither occurs nor is predicted is left out of the mean, and a class predicted but
    /// absent from the truth counts with recall 0. With every class equally frequent it equals accuracy; on a skewed test
    /// set it is what a majority-class predictor cannot inflate (it scores 1/classes).
    /// </summary>
    public static double MacroAccuracyOf(int[,] confusion)
    {
        int classes = confusion.GetLength(0);
        if (confusion.GetLength(1) != classes) throw new ArgumentException($"a confusion matrix must be square, not {classes} × {confusion.GetLength(1)}");
        var recalls = new List<double>();
        for (int c = 0; c < classes; c++)
        {
            int truth = 0, predicted = 0;
            for (int k = 0; k < classes; k++) { truth += confusion[c, k]; predicted += confusion[k, c]; }
            if (truth == 0 && predicted == 0) continue;
            recalls.Add(truth == 0 ? 0 : (double)confusion[c, c] / truth);
        }
        return recalls.Count == 0 ? 0 : recalls.Average();
    }
}

/// <summary>A label word the classifier does not use: the tokenizer splits it into <paramref name="Tokens"/>, so its first token is not the word.</summary>
public sealed record DroppedLabelWord(string Label, string Word, IReadOnlyList<int> Tokens)
{
    public override string ToString() =>
        $"label word \"{Word}\" of \"{Label}\" is {Tokens.Count} tokens [{string.Join(", ", Tokens)}] of this tokenizer, not one; it is not used";
}

/// <summary>
/// Classification with a causal LM by reading next-token logits after a template: each input becomes
/// [BOS] [soft prompt] [discrete prompt] template(text); the score of a class is the mean logit of its label
/// words at the last real position (as the official POST code scores them: the mean of the words' first-token logits),
/// over the words that are one token of the tokenizer; the others are left out and listed in <see cref="DroppedWords"/>.
/// Sequences are right-padded, so causal attention never lets a
/// real token see padding and positions count from the start of each row.
/// </summary>
public sealed class PromptedClassifier
{
    readonly CausalLM _model;
    readonly ITextTokenizer _tokenizer;
    readonly Func<string, string> _render;
    readonly long[][] _labelTokenIds;
    readonly int _maxTextTokens;

    /// <summary>
    /// Characters per window token in a long text's first cut (see <see cref="LastTokens"/>): ordinary text takes 3 to
    /// 5 characters a token, so the first cut nearly always fills the window.
    /// </summary>
    public const int CutCharsPerToken = 8;

    public IReadOnlyList<string> Labels { get; }
    public CausalLM Model => _model;

    /// <param name="labelWords">For each label (same order as <paramref name="labels"/>), its words, e.g. [" great", " good"].</param>
    /// <param name="maxTextTokens">Longer templated texts keep their last tokens (where the template's cue is); the model's
    /// positions cap it further.</param>
    public PromptedClassifier(CausalLM model, ITextTokenizer tokenizer, IReadOnlyList<string> labels,
        IReadOnlyList<IReadOnlyList<string>> labelWords, Func<string, string> render, int maxTextTokens = 256)
    {
        if (labels.Count < 2) throw new ArgumentException($"classification needs at least two labels, got {labels.Count}");
        if (labelWords.Count != labels.Count) throw new ArgumentException("every label needs its label words");
        _model = model;
        _tokenizer = tokenizer;
        _render = render;
        _maxTextTokens = maxTextTokens;
        Labels = labels;
        var dropped = new List<DroppedLabelWord>();
        _labelTokenIds = labels.Select((label, i) =>
        {
            var kept = new List<long>();
            foreach (var word in labelWords[i])
            {
                var ids = tokenizer.Encode(word);
                if (ids.Count == 0) throw new ArgumentException($"label word \"{word}\" of \"{label}\" encodes to no tokens");
                // A word scores its class by its first token, which stands for the word only when it is the whole word: a
                // byte-fallback tokenizer begins " awesome" with the bare space, a token every class's missing words share.
                if (ids.Count == 1) kept.Add(ids[0]);
                else dropped.Add(new DroppedLabelWord(label, word, ids.ToArray()));
            }
            if (kept.Count == 0)
                throw new ArgumentException(
                    $"label \"{label}\" has no label word that is one token of this tokenizer " +
                    $"({string.Join(", ", labelWords[i].Select(w => $"\"{w}\" is [{string.Join(", ", tokenizer.Encode(w))}]"))}); " +
                    "a class is scored by the logits of its words' tokens, so give it a word the vocabulary has whole (fedprompt tokenize shows a word's tokens)");
            return kept.Distinct().Order().ToArray();
        }).ToArray();
        DroppedWords = dropped;
        // Two labels scored by the same tokens always tie: the argmax then names the first of them for every input,
        // whatever the prompt. Distinct words can still share their one token where the tokenizer normalises them
        // (SentencePiece's word-start marker makes "great" and " great" alike).
        for (int i = 0; i < labels.Count; i++)
            for (int j = i + 1; j < labels.Count; j++)
                if (_labelTokenIds[i].SequenceEqual(_labelTokenIds[j]))
                    throw new ArgumentException(
                        $"labels \"{labels[i]}\" and \"{labels[j]}\" cannot be told apart: their label words " +
                        $"({string.Join(", ", labelWords[i].Concat(labelWords[j]).Select(w => $"\"{w}\""))}) are token(s) " +
                        $"[{string.Join(", ", _labelTokenIds[i])}] of this tokenizer; choose label words with different tokens " +
                        "(fedprompt tokenize shows a word's tokens)");
    }

    /// <summary>Label words left out because this tokenizer splits them (their first token is not the word); see <see cref="DroppedLabelWord"/>.</summary>
    public IReadOnlyList<DroppedLabelWord> DroppedWords { get; }

    /// <summary>Full-vocabulary next-token logits [B,V] at each input's prediction position (what POST transfer matches).</summary>
    public Tensor PredictionLogits(IReadOnlyList<string> texts, PromptInput prompt)
    {
        var device = _model.parameters().First().device;
        var (embeds, mask, lastIndex) = BuildInputs(texts, prompt, device);
        var hidden = _model.HiddenStates(embeds, mask);
        var last = hidden.gather(1, lastIndex.view(-1, 1, 1).expand(-1, 1, hidden.shape[2])).squeeze(1);   // [B,H]
        return _model.LmHead(last);
    }

    /// <summary>Class scores [B,C]; differentiable with respect to a soft prompt, for tuning.</summary>
    public Tensor ClassScores(IReadOnlyList<string> texts, PromptInput prompt)
    {
        var logits = PredictionLogits(texts, prompt);
        var perClass = _labelTokenIds.Select(ids => logits.index_select(1, tensor(ids, device: logits.device)).mean([1])).ToArray();
        return stack(perClass, 1);
    }

    /// <summary>
    /// The last <paramref name="count"/> tokens of <paramref name="text"/> (all of them when it has fewer), from a
    /// tokenization of its tail only. Tokenizing can take time quadratic in a text's length (byte-pair merges over one
    /// long run of a letter: 128 KB of "a" took 8 s, under the coordinator's model lock), so a longer text is cut first,
    /// to its last count × <see cref="CutCharsPerToken"/> characters, twice as many while that tail encodes to fewer
    /// than count tokens. The loop ends with at least count tokens or with the whole text: the model always gets a full
    /// window ending where the text ends, and a text within the first cut is tokenized whole, exactly as before.
    /// Every character is at least one UTF-8 byte and a token stands for at most its vocabulary's longest token (GPT-2's
    /// is 128 bytes), so a tail of count × that many characters is always enough: the work is bounded by the window,
    /// not by the text (a tokenizer that drops characters, as SentencePiece's remove_extra_whitespaces does, may need
    /// more; the loop still ends, at worst with the whole text). The tail's last tokens are the whole text's unless one
    /// piece the tokenizer splits from its start (a long run of letters, cl100k's digits in threes) reaches from the cut
    /// into the window.
    /// </summary>
    IReadOnlyList<int> LastTokens(string text, int count)
    {
        for (long keep = (long)count * CutCharsPerToken; ; keep *= 2)
        {
            if (keep >= text.Length) return Last(_tokenizer.Encode(text));
            int start = text.Length - (int)keep;
            if (char.IsLowSurrogate(text[start])) start++;   // never begin with half a character
            var ids = _tokenizer.Encode(text[start..]);
            if (ids.Count >= count) return Last(ids);
        }

        IReadOnlyList<int> Last(IReadOnlyList<int> ids) => ids.Count <= count ? ids : ids.Skip(ids.Count - count).ToArray();
    }

    /// <summary>The token ids of each class's label words that score it (one token per word, as the tokenizer gives them).</summary>
    public IReadOnlyList<IReadOnlyList<long>> LabelTokenIds => _labelTokenIds;

    /// <summary>
    /// The token ids the model reads for each input after [BOS] and the soft prompt: its discrete prompt, then the
    /// templated text's last tokens, as many as the model's positions leave.
    /// </summary>
    public IReadOnlyList<long[]> TokenRows(IReadOnlyList<string> texts, PromptInput prompt)
    {
        int prefixLength = _tokenizer.BosId is null ? 0 : 1;
        int softLength = SoftLength(prompt);
        if (prompt.DiscretePerRow is { } prompts && (prompt.Discrete is not null || prompts.Count != texts.Count))
            throw new ArgumentException(prompt.Discrete is not null
                ? "give one discrete prompt for all inputs or one per input, not both"
                : $"{prompts.Count} discrete prompts for {texts.Count} inputs");
        var rows = texts.Select((text, row) =>
        {
            var discrete = (prompt.DiscretePerRow?[row] ?? prompt.Discrete)?.Select(i => (long)i).ToArray() ?? [];
            if (discrete.Any(id => id < 0 || id >= _model.VocabSize))
                throw new ArgumentException($"discrete prompt has token ids outside the model's vocabulary of {_model.VocabSize}");
            // The templated text gets what the model's positions leave after BOS and the prompts.
            int textBudget = Math.Min(_maxTextTokens, _model.Config.MaxPositions - prefixLength - softLength - discrete.Length);
            if (textBudget < 1)
                throw new ArgumentException($"a prompt of {softLength} soft and {discrete.Length} discrete tokens leaves no room for text in the model's {_model.Config.MaxPositions} positions");
            return discrete.Concat(LastTokens(_render(text), textBudget).Select(i => (long)i)).ToArray();
        }).ToArray();
        if (rows.Any(r => r.Length == 0)) throw new ArgumentException("an input encodes to no tokens");
        return rows;
    }

    static int SoftLength(PromptInput prompt) => prompt.Soft is { } soft ? (int)soft.shape[^2] : 0;

    (Tensor embeds, Tensor mask, Tensor lastIndex) BuildInputs(IReadOnlyList<string> texts, PromptInput prompt, Device device)
    {
        var prefix = new List<long>();
        if (_tokenizer.BosId is int bos) prefix.Add(bos);
        int softLength = SoftLength(prompt);
        var rows = TokenRows(texts, prompt);
        int batch = rows.Count, width = rows.Max(r => r.Length);
        var ids = new long[batch * width];
        var rowMask = new long[batch * width];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < rows[b].Length; t++) { ids[b * width + t] = rows[b][t]; rowMask[b * width + t] = 1; }

        var parts = new List<Tensor>();
        if (prefix.Count > 0)
            parts.Add(_model.EmbedTokens(tensor(prefix.ToArray(), device: device).unsqueeze(0).expand(batch, -1)));
        if (prompt.Soft is { } soft)
        {
            // [k,H] is shared by the batch; [B,k,H] gives each row its own copy (per-example gradients for DP-SGD).
            bool perRow = soft.dim() == 3 && soft.shape[0] == batch;
            if (!(soft.dim() == 2 || perRow) || soft.shape[^1] != _model.HiddenSize)
                throw new ArgumentException($"soft prompt has shape [{string.Join(",", soft.shape)}], the model needs [k,{_model.HiddenSize}] or [{batch},k,{_model.HiddenSize}]");
            parts.Add(perRow ? soft.to(device) : soft.to(device).unsqueeze(0).expand(batch, -1, -1));
        }
        parts.Add(_model.EmbedTokens(tensor(ids, device: device).reshape(batch, width)));

        int lead = prefix.Count + softLength;
        var mask = cat([ones(batch, lead, dtype: ScalarType.Int64, device: device), tensor(rowMask, device: device).reshape(batch, width)], 1);
        var lastIndex = tensor(rows.Select(r => (long)(lead + r.Length - 1)).ToArray(), device: device);
        return (cat(parts, 1), mask, lastIndex);
    }

    /// <summary>Predicted label index per text.</summary>
    public int[] Predict(IReadOnlyList<string> texts, PromptInput prompt, int batchSize = 32)
    {
        var predictions = new List<int>(texts.Count);
        using var noGrad = no_grad();
        _model.eval();
        for (int start = 0; start < texts.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = texts.Skip(start).Take(batchSize).ToList();
            var batchPrompt = prompt.DiscretePerRow is { } perRow ? prompt with { DiscretePerRow = perRow.Skip(start).Take(batchSize).ToList() } : prompt;
            predictions.AddRange(ClassScores(batch, batchPrompt).argmax(1).data<long>().ToArray().Select(p => (int)p));
        }
        return predictions.ToArray();
    }

    /// <summary>Accuracy and confusion matrix (rows: true label, columns: predicted) on labeled texts.</summary>
    public ClassificationResult Evaluate(IReadOnlyList<(string Text, string Label)> examples, PromptInput prompt,
        int batchSize = 32, IProgress<int>? progress = null)
    {
        var labelIndex = Labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i);
        foreach (var (_, label) in examples)
            if (!labelIndex.ContainsKey(label)) throw new ArgumentException($"label \"{label}\" has no label words (known: {string.Join(", ", Labels)})");
        var predictions = new List<int>(examples.Count);
        for (int start = 0; start < examples.Count; start += batchSize)
        {
            predictions.AddRange(Predict(examples.Skip(start).Take(batchSize).Select(e => e.Text).ToList(), prompt, batchSize));
            progress?.Report(predictions.Count);
        }
        return ClassificationResult.Of(Labels, examples.Select(e => labelIndex[e.Label]).ToArray(), predictions);
    }
}
