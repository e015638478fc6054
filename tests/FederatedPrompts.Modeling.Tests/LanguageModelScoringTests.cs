using System.Text.Json.Nodes;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tests.Reference;
using FederatedPrompts.TestSupport;
using Xunit.Abstractions;

namespace FederatedPrompts.Modeling.Tests;

public class LanguageModelScoringTests(ITestOutputHelper output)
{
    [SharedDataFact]
    public void Token_log_probs_and_mean_nll_match_reference_softmax()
    {
        string dir = SharedData.Under("models", "tiny-random-gpt2");
        var ids = ModelTestSupport.RandomIds(10, 1000, seed: 4);
        var logits = ReferenceTransformer.Logits(ReferenceCheckpoint.Load(dir), ids);
        var expected = Enumerable.Range(0, ids.Length - 1).Select(i =>
        {
            double max = logits[i].Max();
            return logits[i][ids[i + 1]] - max - Math.Log(logits[i].Sum(l => Math.Exp(l - max)));
        }).ToArray();

        var model = HfCheckpoint.Load(dir);
        var actual = LanguageModelScoring.TokenLogProbs(model, ids);
        Assert.Equal(ids.Length - 1, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-4, $"token {i}: {actual[i]} vs {expected[i]}");
        Assert.Equal(-expected.Average(), LanguageModelScoring.MeanNll(model, ids), 4);
    }

    static string[] Pieces() =>
        JsonNode.Parse(File.ReadAllText(SharedData.Under("models", "stories260k-llama", "pieces.json")))!["pieces"]!.AsArray()
            .Select(p => p!.GetValue<string>()).ToArray();

    // Pieces carry their leading space either as ' ' or as SentencePiece's '▁'.
    static string Normalize(string piece) => piece.Replace('▁', ' ');

    [SharedDataFact]
    public void Stories260k_greedy_continuation_is_a_coherent_story()
    {
        var pieces = Pieces();
        int Id(string piece) => Array.FindIndex(pieces, p => Normalize(p) == piece) is var id and >= 0 ? id : throw new KeyNotFoundException(piece);
        int[] prompt = [1, Id(" Once"), Id(" upon"), Id(" a"), Id(" time")];
        var model = HfCheckpoint.Load(SharedData.Under("models", "stories260k-llama"));

        var generated = LanguageModelScoring.Generate(model, prompt, maxNewTokens: 40, eosId: 2);
        string text = string.Concat(prompt.Skip(1).Concat(generated).Select(id => Normalize(pieces[id])));
        output.WriteLine(text);

        Assert.Equal(40, generated.Length);
        Assert.StartsWith(" Once upon a time", text);
        string continuation = string.Concat(generated.Select(id => Normalize(pieces[id])));
        Assert.Contains(", there was a little", continuation);
        Assert.Contains(" named ", continuation);
    }
}
