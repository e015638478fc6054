using System.Diagnostics;

namespace FederatedPrompts.Cli.Bench;

/// <summary>A benchmark's helper process (a side of <c>bench peer</c>, a slice of <c>bench federation</c>'s clients) run to its end.</summary>
public static class ChildProcess
{
    /// <summary>
    /// Runs <paramref name="start"/> to its end with its output (stdout, then stderr) kept in <paramref name="logPath"/>; a
    /// non-zero exit is an error naming <paramref name="what"/>, its last line of stderr and the log. Cancelling kills it.
    /// </summary>
    public static async Task RunAsync(ProcessStartInfo start, string logPath, string what, CancellationToken cancel)
    {
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{what} did not start");
        try
        {
            var output = process.StandardOutput.ReadToEndAsync(cancel);
            var error = process.StandardError.ReadToEndAsync(cancel);
            await process.WaitForExitAsync(cancel);
            await File.WriteAllTextAsync(logPath, await output + await error, CancellationToken.None);
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"{what} exited with {process.ExitCode}: {(await error).Trim().Split('\n')[^1]} (see {logPath})");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }
}
