using FederatedPrompts.Discrete.Proposal;

namespace FederatedPrompts.Discrete.Search;

/// <summary>One evaluated replacement: putting <see cref="TokenId"/> at <see cref="Position"/> changed batch accuracy by <see cref="AccuracyChange"/>.</summary>
public sealed record FeedbackEntry(int Position, int TokenId, double AccuracyChange);

/// <summary>
/// What the search has learned from the black box's answers, used to order later proposals. The rule, for
/// candidates at position p:
/// <list type="number">
/// <item>a token that ever lowered accuracy at p is dropped (avoided);</item>
/// <item>the rest are ordered by the token's score, the sum of all its past accuracy changes at any position, highest
/// first (tokens that helped anywhere are tried first, ones that hurt elsewhere last);</item>
/// <item>then by how often the token was already tried at p, fewest first (explore before retrying a neutral token);</item>
/// <item>then in the proposer's order.</item>
/// </list>
/// </summary>
public sealed class FeedbackMemory
{
    readonly List<FeedbackEntry> _entries = [];
    readonly Dictionary<int, double> _scoreByToken = [];
    readonly Dictionary<(int Position, int TokenId), int> _triesAt = [];
    readonly HashSet<(int Position, int TokenId)> _hurtAt = [];

    public IReadOnlyList<FeedbackEntry> Entries => _entries;

    public void Record(int position, int tokenId, double accuracyChange)
    {
        _entries.Add(new FeedbackEntry(position, tokenId, accuracyChange));
        _scoreByToken[tokenId] = Score(tokenId) + accuracyChange;
        _triesAt[(position, tokenId)] = TriesAt(position, tokenId) + 1;
        if (accuracyChange < 0) _hurtAt.Add((position, tokenId));
    }

    /// <summary>Sum of the token's past accuracy changes at any position; 0 if never tried.</summary>
    public double Score(int tokenId) => _scoreByToken.GetValueOrDefault(tokenId);

    public int TriesAt(int position, int tokenId) => _triesAt.GetValueOrDefault((position, tokenId));

    /// <summary>True once putting the token at this position lowered accuracy.</summary>
    public bool Avoids(int position, int tokenId) => _hurtAt.Contains((position, tokenId));

    /// <summary>The candidates for <paramref name="position"/> filtered and ordered by the rule above (LINQ ordering is stable, so the proposer's order breaks ties).</summary>
    public IReadOnlyList<TokenCandidate> Rank(IReadOnlyList<TokenCandidate> candidates, int position) =>
        candidates.Where(candidate => !Avoids(position, candidate.TokenId))
            .OrderByDescending(candidate => Score(candidate.TokenId))
            .ThenBy(candidate => TriesAt(position, candidate.TokenId))
            .ToArray();
}
