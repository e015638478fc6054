using System.Diagnostics;
using System.Text.Json;

namespace FederatedPrompts.Cli.Tests;

/// <summary><c>fedprompt bench peer</c>: its refusals everywhere; the whole comparison where Debian's PyTorch is installed.</summary>
public class BenchPeerTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void An_unknown_shape_is_bad_input() =>
        BadInputTests.AssertOneLineError(Fedprompt.Run("bench", "peer", "--models", "gpt2-small,gpt5", "--peer-script", Script, "--out", _dir.Path),
            "--models", "gpt5", "llama-135m");

    [Fact]
    public void A_python_without_pytorch_is_bad_input_with_the_way_to_install_it() =>
        BadInputTests.AssertOneLineError(Fedprompt.Run("bench", "peer", "--python", _dir.Combine("no-python"), "--peer-script", Script, "--out", _dir.Path),
            "--python", "apt-get install python3-torch");

    [PytorchFact]
    public void Both_sides_compute_the_same_scores_and_prompt_on_gpt2_small()
    {
        var run = Fedprompt.Run("bench", "peer", "--models", "gpt2-small", "--tokenizer", SharedData.Under("models", "gpt2-tokenizer"),
            "--task", SharedData.Under("tasks", "sst2", "train.jsonl"), "--preset", "sst2", "--forward-batches", "1", "--forward-batch-size", "2",
            "--steps", "1", "--batch-size", "2", "--peer-script", Script, "--out", _dir.Path);
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        var root = JsonDocument.Parse(File.ReadAllText(_dir.Combine("peer.json"))).RootElement;
        var agreement = root.GetProperty("agreements")[0];
        Assert.InRange(agreement.GetProperty("max_score_difference").GetDouble(), 0, 1e-4);
        Assert.InRange(agreement.GetProperty("max_prompt_difference").GetDouble(), 0, 1e-5);
        Assert.Equal(agreement.GetProperty("first_tuning_loss_pytorch").GetDouble(), agreement.GetProperty("first_tuning_loss_project").GetDouble(), 4);
        var comparisons = root.GetProperty("comparisons").EnumerateArray().ToList();
        Assert.Equal(3, comparisons.Count);
        Assert.All(comparisons, c => Assert.True(c.GetProperty("time_ratio").GetDouble() > 0 && c.GetProperty("memory_ratio").GetDouble() > 0));
        foreach (var ext in new[] { "md", "png" }) Assert.True(File.Exists(_dir.Combine($"peer.{ext}")), ext);
    }

    static string Script => Repository.Path("bench", "peers", "torch_peer.py");
}

/// <summary>Runs where ../shared/data is and Debian's PyTorch imports (apt-get install python3-torch; never installed by CI).</summary>
public sealed class PytorchFactAttribute : FactAttribute
{
    public PytorchFactAttribute()
    {
        if (SharedData.Root is null) Skip = "needs ../shared/data (the GPT-2 tokenizer and sst2)";
        else if (!Imports()) Skip = "needs Debian's PyTorch for /usr/bin/python3 (apt-get install python3-torch), the peer of bench peer";
    }

    static bool Imports()
    {
        if (!File.Exists("/usr/bin/python3")) return false;
        using var probe = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", "import torch"]) { RedirectStandardError = true, UseShellExecute = false })!;
        probe.StandardError.ReadToEnd();
        probe.WaitForExit();
        return probe.ExitCode == 0;
    }
}
