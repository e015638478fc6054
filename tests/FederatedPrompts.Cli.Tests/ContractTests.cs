using System.Text.Json;
using FederatedPrompts.Modeling.Models;

namespace FederatedPrompts.Cli.Tests;

/// <summary>The JSON contracts of `tokenize` and `lm score`, checked exactly.</summary>
public class ContractTests
{
    [SharedDataFact]
    public void Tokenize_prints_hugging_face_gpt2_ids_as_one_json_line()
    {
        var run = Fedprompt.Run("tokenize", "--tokenizer", SharedData.Under("models", "gpt2-tokenizer"), "--text", "Hello world", "--json");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("{\"token_ids\":[15496,995]}", run.Stdout.Trim());
    }

    [SharedDataFact]
    public void Lm_score_prints_token_ids_logprobs_and_mean_nll_matching_the_library()
    {
        string model = SharedData.Under("models", "tiny-random-gpt2");
        var run = Fedprompt.Run("lm", "score", "--model", model, "--text", "Hello world, this is a test", "--json");
        Assert.Equal(0, run.ExitCode);
        var lines = run.Stdout.Trim().Split('\n');
        var json = JsonDocument.Parse(Assert.Single(lines)).RootElement;
        Assert.Equal(["token_ids", "logprobs", "mean_nll"], json.EnumerateObject().Select(p => p.Name));

        var ids = json.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var logprobs = json.GetProperty("logprobs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(ids.Length - 1, logprobs.Length);
        Assert.Equal(-logprobs.Average(), json.GetProperty("mean_nll").GetDouble(), 12);

        using var lm = HfCheckpoint.Load(model);
        var expected = LanguageModelScoring.TokenLogProbs(lm, ids);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], logprobs[i], 6);

        var byIds = Fedprompt.Run("lm", "score", "--model", model, "--ids", string.Join(",", ids), "--json");
        Assert.Equal(run.Stdout, byIds.Stdout);
    }

    [SharedDataFact]
    public void Generate_continues_the_stories260k_opening_coherently()
    {
        var run = Fedprompt.Run("generate", "--model", SharedData.Under("models", "stories260k-llama"), "--ids", "1", "--max-new-tokens", "20");
        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("Once upon a time, there was a little", run.Stdout.Trim());
    }
}
