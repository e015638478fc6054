namespace FederatedPrompts.Cli.Tests;

/// <summary>Bad input: exit code 2 and one `error:` line that names what is wrong; no stack trace.</summary>
public class BadInputTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    internal static void AssertOneLineError(CliRun run, params string[] mentions)
    {
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Stdout);
        var line = Assert.Single(run.Stderr.Trim().Split('\n'));
        Assert.StartsWith("error: ", line);
        foreach (var mention in mentions) Assert.Contains(mention, line);
    }

    [Fact]
    public void Token_ids_that_are_not_numbers_are_rejected() =>
        AssertOneLineError(Fedprompt.Run("lm", "score", "--model", _dir.Path, "--ids", "1,x"), "--ids", "\"x\"");

    [Fact]
    public void Missing_model_folder_names_the_config_file()
    {
        string missing = _dir.Combine("no-such-model");
        AssertOneLineError(Fedprompt.Run("lm", "score", "--model", missing, "--ids", "1,2"), Path.Combine(missing, "config.json"));
    }

    [Fact]
    public void Unknown_model_type_is_named()
    {
        _dir.Write("config.json", """{"model_type": "bert", "vocab_size": 10}""");
        AssertOneLineError(Fedprompt.Run("lm", "score", "--model", _dir.Path, "--ids", "1,2"), "config.json", "bert");
    }

    [Fact]
    public void Truncated_safetensors_header_names_the_file()
    {
        _dir.Write("config.json", """{"model_type":"gpt2","vocab_size":10,"n_embd":8,"n_layer":1,"n_head":2,"n_positions":16}""");
        File.WriteAllBytes(_dir.Combine("model.safetensors"), [200, 0, 0, 0, 0, 0, 0, 0, (byte)'{']);
        AssertOneLineError(Fedprompt.Run("lm", "score", "--model", _dir.Path, "--ids", "1,2"), "model.safetensors");
    }

    [Fact]
    public void Malformed_task_line_is_named_with_file_and_line()
    {
        string task = _dir.Write("task.jsonl", "{\"text\": \"fine\", \"label\": \"a\"}\n{\"text\": \"broken\"\n");
        AssertOneLineError(Fedprompt.Run("eval", "--model", _dir.Path, "--task", task, "--template", "{text} It was"), "task.jsonl:2");
    }

    [Fact]
    public void Folder_without_a_tokenizer_is_named()
    {
        AssertOneLineError(Fedprompt.Run("tokenize", "--tokenizer", _dir.Path, "--text", "x"), _dir.Path, "no tokenizer");
    }

    [Theory]
    [InlineData("--local-epochs", "0", "--local-epochs must be at least 1")]
    [InlineData("--lr", "NaN", "--lr must be positive and finite")]
    [InlineData("--validate-every", "-1", "--validate-every must not be negative")]
    [InlineData("--strategy", "kmeans", "--strategy kmeans is not one of feddtpt, fedavg, median, trimmed-mean, krum for soft mode")]
    public void Simulate_refuses_bad_local_work_before_building_anything(string option, string value, string message)
    {
        string output = _dir.Combine("sim");
        AssertOneLineError(Fedprompt.Run("simulate", option, value, "--out", output), message);
        Assert.False(Directory.Exists(Path.Combine(output, "data")));   // refused before data, models or certificates were made
    }
}
