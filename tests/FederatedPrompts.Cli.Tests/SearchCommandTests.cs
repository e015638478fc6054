using System.Text.Json;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Cli.Tests;

/// <summary>`fedprompt search`: a FedDTPT client's search through the metered black box, end to end.</summary>
public class SearchCommandTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Search_respects_its_query_budget_and_writes_a_prompt_for_the_model_tokenizer()
    {
        string corpus = _dir.Write("corpus.txt", string.Join("\n\n", Enumerable.Range(0, 20).Select(i =>
            i % 2 == 0 ? $"review {i}: the film was lovely. It was great." : $"review {i}: the film was dull. It was terrible.")));
        string model = _dir.Combine("model");
        var pretrain = Fedprompt.Run("pretrain", "--corpus", corpus, "--out", model, "--layers", "1", "--hidden", "16", "--heads", "2",
            "--context", "32", "--vocab-size", "300", "--steps", "2", "--held-out", "0.3");
        Assert.True(pretrain.ExitCode == 0, pretrain.Stderr);
        string Rows(int n, int offset) => string.Join("\n", Enumerable.Range(offset, n).Select(i => JsonSerializer.Serialize(
            new { text = i % 2 == 0 ? $"lovely film {i}" : $"dull film {i}", label = i % 2 == 0 ? "positive" : "negative" })));
        string local = _dir.Write("local.jsonl", Rows(12, 0)), publicSet = _dir.Write("public.jsonl", Rows(4, 100));
        string output = _dir.Combine("prompt.json");

        var run = Fedprompt.Run("search", "--model", model, "--task", local, "--public", publicSet, "--template", "{text} It was",
            "--verbalizer", "positive=great;negative=terrible", "--prompt-text", " the film", "--iterations", "50",
            "--local-batch", "6", "--public-per-label", "1", "--budget", "100", "--out", output, "--json");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var summary = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.InRange(summary.GetProperty("queries").GetInt64(), 1, 100);
        Assert.Equal("BudgetExhausted", summary.GetProperty("stop").GetString());   // 50 iterations cannot fit in 100 queries

        var prompt = DiscretePrompt.Load(output);
        Assert.Equal(summary.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()), prompt.TokenIds);
        Assert.StartsWith("cl100k-subset:", prompt.TokenizerIdentity);
    }
}
