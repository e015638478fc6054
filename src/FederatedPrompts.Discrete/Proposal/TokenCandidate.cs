namespace FederatedPrompts.Discrete.Proposal;

/// <summary>Where a replacement candidate came from; a token both sources found has both flags.</summary>
[Flags]
public enum CandidateSources
{
    /// <summary>Among the proposer LM's top next-token predictions after the prompt prefix.</summary>
    Contextual = 1,
    /// <summary>Among the current token's nearest neighbours in the proposer's token-embedding space.</summary>
    Neighbour = 2,
}

public sealed record TokenCandidate(int TokenId, CandidateSources Sources);
