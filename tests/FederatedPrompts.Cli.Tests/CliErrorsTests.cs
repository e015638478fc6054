namespace FederatedPrompts.Cli.Tests;

/// <summary>Serial: the tests below replace Console.Error, which the whole process shares.</summary>
[CollectionDefinition(nameof(ConsoleErrorCollection), DisableParallelization = true)]
public sealed class ConsoleErrorCollection;

/// <summary>
/// The exit-code convention: bad input 2 with one error line, a bug 1 with its stack trace, and FEDPROMPT_DEBUG adding
/// the trace to everything. An ArgumentException is bad input when this project's own check threw it, a bug when .NET did.
/// </summary>
[Collection(nameof(ConsoleErrorCollection))]
public class CliErrorsTests
{
    static (int Code, string Stderr) Run(Func<Task<int>> command)
    {
        var saved = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            return (CliErrors.RunAsync(command).GetAwaiter().GetResult(), captured.ToString());
        }
        finally
        {
            Console.SetError(saved);
        }
    }

    static Task<int> Throws(Exception e) => throw e;

    [Fact]
    public void This_projects_argument_checks_are_bad_input_on_one_line()
    {
        var (code, stderr) = Run(() => Throws(new ArgumentException("token 3 has id 999, outside the vocabulary of 50")));
        Assert.Equal((2, "error: token 3 has id 999, outside the vocabulary of 50"), (code, stderr.Trim()));
        // A check through the exception type's own throw helper counts as the caller's.
        (code, stderr) = Run(() => { ArgumentOutOfRangeException.ThrowIfNegative(-1, "count"); return Task.FromResult(0); });
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void An_argument_exception_from_inside_dotnet_is_a_bug_with_its_stack_trace()
    {
        var (code, stderr) = Run(() => Task.FromResult(new List<int>()[1]));
        Assert.Equal(1, code);
        Assert.Contains("internal error, a bug", stderr);
        Assert.Contains("ArgumentOutOfRangeException", stderr);
        Assert.Contains(" at ", stderr);   // the trace
        (code, stderr) = Run(() => Task.FromResult(Path.Combine(null!, "x").Length));
        Assert.Equal(1, code);
        Assert.Contains("ArgumentNullException", stderr);
        (code, _) = Run(() => Throws(new InvalidOperationException("state that cannot happen")));
        Assert.Equal(1, code);
    }

    [Fact]
    public void Fedprompt_debug_adds_the_stack_trace_and_keeps_the_exit_code()
    {
        string[] bad = ["privacy", "epsilon", "--sample-rate", "2", "--noise", "1", "--steps", "10"];
        var plain = Fedprompt.Run(bad);
        Assert.Equal(2, plain.ExitCode);
        Assert.DoesNotContain(" at ", plain.Stderr);
        var debug = Fedprompt.RunWith(new Dictionary<string, string> { ["FEDPROMPT_DEBUG"] = "1" }, bad);
        Assert.Equal(2, debug.ExitCode);
        Assert.StartsWith("error: ", debug.Stderr);
        Assert.Contains(" at FederatedPrompts.", debug.Stderr);
    }
}
