using FederatedPrompts.Coordinator.Runs;

namespace FederatedPrompts.Cli.Tests;

/// <summary>The deployment examples in deploy/ stay in step with the code they configure.</summary>
public class DeployFilesTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    static string Deploy(string name) => Repository.Path("deploy", name);

    [Fact]
    public void Example_run_configuration_is_valid_once_its_files_exist()
    {
        string config = _dir.Write("run.json", File.ReadAllText(Deploy("run.example.json")));
        // A run configuration checks that its models and data exist; give it empty ones where the example points.
        Assert.Contains("small_model folder", Assert.Throws<InvalidDataException>(() => RunConfig.Load(config)).Message);
        foreach (var folder in new[] { "models/student", "models/teacher" }) Directory.CreateDirectory(_dir.Combine(folder));
        foreach (var file in new[] { "data/held-out.jsonl", "data/public-corpus.jsonl", "data/public-labeled.jsonl" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_dir.Combine(file))!);
            File.WriteAllText(_dir.Combine(file), "");
        }

        var run = RunConfig.Load(config);

        Assert.Equal([Core.Prompts.PromptMode.Soft], run.Modes);
        Assert.Equal(["hospital-a", "hospital-b", "hospital-c"], run.Clients);
        Assert.Equal(8, run.Soft.Dp!.Epsilon);
        Assert.Equal(_dir.Combine("models/student"), run.SmallModel);
    }

    [Theory]
    [InlineData("systemd/fedprompt-coordinator.service", "coordinator")]
    [InlineData("systemd/fedprompt-client@.service", "client")]
    public void Service_units_start_a_verb_with_options_it_has(string unit, string verb)
    {
        string execStart = File.ReadAllLines(Deploy(unit)).Single(line => line.StartsWith("ExecStart="));
        var words = execStart["ExecStart=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(verb, words[1]);
        string help = Fedprompt.Run(verb, "--help").Stdout;
        foreach (var option in words.Where(w => w.StartsWith("--"))) Assert.Contains(option, help);
    }
}
