using FederatedPrompts.Discrete.Proposal;
using static TorchSharp.torch;

namespace FederatedPrompts.Discrete.Tests;

public class TokenProposerTests
{
    static readonly TinyModel Tiny = new();

    [Fact]
    public void Contextual_candidates_are_the_models_top_next_tokens_after_the_prefix_then_neighbours_by_cosine()
    {
        var proposer = new TokenProposer(Tiny.Model, Tiny.Tokenizer, contextualTopK: 4, neighbourTopK: 5);
        var prompt = Tiny.Encode(" the film was great").ToArray();
        const int position = 2;
        int current = prompt[position];
        bool Allowed(int id) => id != current && id != Tiny.Tokenizer.BosId && id < Tiny.Tokenizer.VocabSize;

        var candidates = proposer.Propose(prompt, position);

        float[] logits;
        using (no_grad())
            logits = Tiny.Model.Logits(tensor(new long[] { Tiny.Tokenizer.BosId!.Value, prompt[0], prompt[1] }).unsqueeze(0))[0, -1].data<float>().ToArray();
        var topNext = Enumerable.Range(0, Tiny.Tokenizer.VocabSize).Where(Allowed).OrderByDescending(id => logits[id]).Take(4);
        Assert.Equal(topNext, candidates.Take(4).Select(c => c.TokenId));
        Assert.All(candidates.Take(4), c => Assert.True(c.Sources.HasFlag(CandidateSources.Contextual)));

        var embeddings = Tiny.Model.EmbedTokens(arange(Tiny.Model.VocabSize)).detach();
        double Cosine(int id) => nn.functional.cosine_similarity(embeddings[id], embeddings[current], dim: 0).item<float>();
        var nearest = Enumerable.Range(0, Tiny.Tokenizer.VocabSize).Where(Allowed).OrderByDescending(Cosine).Take(5).ToHashSet();
        Assert.Equal(nearest, candidates.Where(c => c.Sources.HasFlag(CandidateSources.Neighbour)).Select(c => c.TokenId).ToHashSet());
        var neighbourOnly = candidates.Skip(4).Select(c => Cosine(c.TokenId)).ToArray();
        Assert.Equal(neighbourOnly.OrderDescending(), neighbourOnly);
        Assert.True(candidates.Count >= 5);
    }

    [Fact]
    public void Neighbour_candidates_follow_cosine_on_a_constructed_embedding_matrix()
    {
        var tiny = new TinyModel();
        // Rows 0..6 as in EmbeddingNeighboursTests (cosines to row 0: 1, 1/√2, 0, −1, 0, 3/√10); every other row is zero.
        float[,] rows = { { 1, 0 }, { 2, 0 }, { 1, 1 }, { 0, 1 }, { -1, 0 }, { 0, 0 }, { 3, 1 } };
        using (no_grad())
        {
            var wte = tiny.Model.named_parameters().Single(p => p.name == "transformer.wte.weight").parameter;
            wte.zero_();
            wte[TensorIndex.Slice(0, 7), TensorIndex.Slice(0, 2)].copy_(tensor(rows));
        }
        var proposer = new TokenProposer(tiny.Model, tiny.Tokenizer, contextualTopK: 0, neighbourTopK: 5);

        var candidates = proposer.Propose([0, 3], 0);

        Assert.Equal([1, 6, 2, 3, 5], candidates.Select(c => c.TokenId));   // 3 and 5 (and all zero rows) tie at 0: lower id first
        Assert.All(candidates, c => Assert.Equal(CandidateSources.Neighbour, c.Sources));
    }

    /// <summary>
    /// A neighbour space replaces the model's input embeddings: the same constructed rows 0..6 given as a token-embedding
    /// table (every other row zero) over an untouched model give the same neighbours as the constructed model above.
    /// </summary>
    [Fact]
    public void Neighbours_come_from_the_given_token_space()
    {
        var vocabulary = Tiny.Model.VocabSize;
        var values = new float[vocabulary * 2];
        float[] rows = [1, 0, 2, 0, 1, 1, 0, 1, -1, 0, 0, 0, 3, 1];
        rows.CopyTo(values, 0);
        var space = new Core.Prompts.VocabularyEmbeddings(values, vocabulary, 2);
        var proposer = new TokenProposer(Tiny.Model, Tiny.Tokenizer, contextualTopK: 0, neighbourTopK: 5, neighbourSpace: space);

        Assert.Equal([1, 6, 2, 3, 5], proposer.Propose([0, 3], 0).Select(c => c.TokenId));
    }

    [Fact]
    public void Proposals_are_deterministic_and_never_the_current_or_a_special_token()
    {
        var proposer = new TokenProposer(Tiny.Model, Tiny.Tokenizer, contextualTopK: 6, neighbourTopK: 6);
        var prompt = Tiny.Encode(" a lovely film").ToArray();
        for (int position = 0; position < prompt.Length; position++)
        {
            var first = proposer.Propose(prompt, position);
            Assert.Equal(first, proposer.Propose(prompt, position));
            Assert.DoesNotContain(first, c => c.TokenId == prompt[position] || c.TokenId == Tiny.Tokenizer.BosId);
            Assert.Equal(first.Count, first.Select(c => c.TokenId).Distinct().Count());
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => proposer.Propose(prompt, prompt.Length));
    }
}
