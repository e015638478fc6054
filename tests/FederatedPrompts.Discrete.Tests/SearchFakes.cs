using FederatedPrompts.Discrete.BlackBox;
using FederatedPrompts.Discrete.Proposal;

namespace FederatedPrompts.Discrete.Tests;

/// <summary>
/// A service with one decisive token: with <see cref="Trigger"/> in the prompt every answer is right; with
/// <see cref="Poison"/> (and no trigger) every answer is wrong; otherwise it answers "positive" to everything.
/// </summary>
sealed class TriggerBlackBox : IBlackBoxClassifier
{
    public const int Trigger = 40, Poison = 41;

    public long Queries { get; private set; }

    public IReadOnlyList<string> Classify(IReadOnlyList<int> promptTokenIds, IReadOnlyList<string> texts)
    {
        Queries += texts.Count;
        bool trigger = promptTokenIds.Contains(Trigger), poison = promptTokenIds.Contains(Poison);
        return texts.Select(text =>
        {
            string truth = Truth(text);
            bool right = trigger || (!poison && truth == "positive");
            return right ? truth : (truth == "positive" ? "negative" : "positive");
        }).ToArray();
    }

    public static string Truth(string text) => text.StartsWith("good") ? "positive" : "negative";
}

/// <summary>The same pool at every position, minus the token already there.</summary>
sealed class FixedProposer(params int[] pool) : ITokenProposer
{
    public IReadOnlyList<TokenCandidate> Propose(IReadOnlyList<int> prompt, int position) =>
        pool.Where(id => id != prompt[position]).Select(id => new TokenCandidate(id, CandidateSources.Contextual)).ToArray();
}
