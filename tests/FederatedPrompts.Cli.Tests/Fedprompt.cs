using System.Diagnostics;

namespace FederatedPrompts.Cli.Tests;

public sealed record CliRun(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs fedprompt.dll (copied beside the tests by the project reference) in a child process.</summary>
public static class Fedprompt
{
    static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "fedprompt.dll");

    public static CliRun Run(params string[] args) => RunWith(new Dictionary<string, string>(), args);

    /// <summary>Runs it with extra environment variables.</summary>
    public static CliRun RunWith(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        start.ArgumentList.Add(Dll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5))) { process.Kill(entireProcessTree: true); throw new TimeoutException($"fedprompt {string.Join(' ', args)}"); }
        return new CliRun(process.ExitCode, stdout.Result, stderr.Result);
    }
}
