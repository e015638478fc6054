using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedPrompts.Discrete.Proposal;

/// <summary>
/// Replacement candidates for prompt position i from a public small LM that shares the black box's tokenizer:
/// first its top-<c>contextualTopK</c> next-token predictions after [BOS] prompt[0..i) (by logit), then the
/// top-<c>neighbourTopK</c> nearest neighbours of prompt[i] (by cosine) not already listed, in a token-embedding space
/// (<see cref="TokenSpaces"/>): the LM's input embeddings by default, or the sentence encoder's embeddings of the token
/// texts, where " good" has " excellent" and " great" as neighbours, so a search can move along meaning.
/// The paper fills position i with a masked LM that sees both sides; a causal proposer sees only the left context, so
/// the neighbours are what brings in candidates that fit the right-hand side too. Both rankings break ties by the lower id, so proposals are deterministic. Candidates are real tokens
/// of the tokenizer: ids beyond its vocabulary (model padding rows), BOS/EOS and the current token are left out.
/// At position 0 of a tokenizer without BOS there is no context, and only neighbours are proposed.
/// </summary>
public sealed class TokenProposer : ITokenProposer
{
    readonly CausalLM _model;
    readonly ITextTokenizer _tokenizer;
    readonly EmbeddingNeighbours _neighbours;
    readonly int _contextualTopK, _neighbourTopK, _tokenCount;

    public TokenProposer(CausalLM model, ITextTokenizer tokenizer, int contextualTopK = 8, int neighbourTopK = 8, ITokenEmbeddings? neighbourSpace = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(contextualTopK);
        ArgumentOutOfRangeException.ThrowIfNegative(neighbourTopK);
        _model = model;
        _tokenizer = tokenizer;
        _contextualTopK = contextualTopK;
        _neighbourTopK = neighbourTopK;
        _tokenCount = Math.Min(model.VocabSize, tokenizer.VocabSize);
        if (neighbourSpace is null)
        {
            _neighbours = new EmbeddingNeighbours(InputEmbeddings.Rows(model));
        }
        else
        {
            var rows = neighbourSpace.Embed(Enumerable.Range(0, Math.Min(_tokenCount, neighbourSpace.VocabularySize)).ToArray());
            using var matrix = tensor(rows.SelectMany(row => row).ToArray(), [rows.Count, neighbourSpace.Dimension]);
            _neighbours = new EmbeddingNeighbours(matrix);
        }
    }

    public IReadOnlyList<TokenCandidate> Propose(IReadOnlyList<int> prompt, int position)
    {
        if (position < 0 || position >= prompt.Count) throw new ArgumentOutOfRangeException(nameof(position), position, $"prompt has {prompt.Count} tokens");
        int current = prompt[position];
        if (current < 0 || current >= _tokenCount) throw new ArgumentException($"prompt token {position} (id {current}) is outside the proposer's vocabulary of {_tokenCount}");
        bool Allowed(int id) => id < _tokenCount && id != current && id != _tokenizer.BosId && id != _tokenizer.EosId;

        var sources = new Dictionary<int, CandidateSources>();
        var order = new List<int>();
        void Add(int id, CandidateSources source)
        {
            if (sources.TryAdd(id, source)) order.Add(id);
            else sources[id] |= source;
        }
        foreach (var (id, _) in TopScores.Ranked(NextTokenLogits(prompt.Take(position)), _contextualTopK, Allowed))
            Add(id, CandidateSources.Contextual);
        foreach (var neighbour in _neighbours.Nearest(current, _neighbourTopK, Allowed))
            Add(neighbour.TokenId, CandidateSources.Neighbour);
        return order.Select(id => new TokenCandidate(id, sources[id])).ToArray();
    }

    /// <summary>The proposer's next-token logits after [BOS] + prefix; empty when there is no context at all.</summary>
    float[] NextTokenLogits(IEnumerable<int> prefix)
    {
        var context = (_tokenizer.BosId is int bos ? [bos] : Array.Empty<int>()).Concat(prefix)
            .TakeLast(_model.Config.MaxPositions).Select(id => (long)id).ToArray();   // a long prompt keeps its nearest context
        if (context.Length == 0 || _contextualTopK == 0) return [];
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        _model.eval();
        var ids = tensor(context, device: _model.parameters().First().device).unsqueeze(0);
        return _model.Logits(ids)[0, -1].cpu().data<float>().ToArray();
    }
}
