using System.CommandLine;

namespace FederatedPrompts.Cli.Tests;

/// <summary>The whole `fedprompt` command tree: every option a user can type says what it does in --help.</summary>
public class CommandTreeTests
{
    static IEnumerable<(string Path, Command Command)> Commands(Command command, string path)
    {
        yield return (path, command);
        foreach (var sub in command.Subcommands)
            foreach (var nested in Commands(sub, $"{path} {sub.Name}")) yield return nested;
    }

    [Fact]
    public void Every_option_has_a_description()
    {
        var undescribed = Commands(FedpromptCommands.Root(), "fedprompt")
            .SelectMany(c => c.Command.Options.Where(o => string.IsNullOrWhiteSpace(o.Description)).Select(o => $"{c.Path} {o.Name}"))
            .ToList();
        Assert.True(undescribed.Count == 0, $"{undescribed.Count} options without a description:\n{string.Join('\n', undescribed)}");
    }
}
