namespace FederatedPrompts.Discrete.Proposal;

/// <summary>Proposes replacements for one token of a discrete prompt, best first; never the current token itself.</summary>
public interface ITokenProposer
{
    IReadOnlyList<TokenCandidate> Propose(IReadOnlyList<int> prompt, int position);
}
