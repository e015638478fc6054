using System.Diagnostics;

namespace FederatedPrompts.Cli.Simulation;

/// <summary>
/// Another <c>fedprompt</c> process (the coordinator, a client) started from this one, its output kept in a log file.
/// Works both as the apphost and as <c>dotnet fedprompt.dll</c>.
/// </summary>
public sealed class FedpromptProcess : IDisposable
{
    readonly Process _process;
    readonly StreamWriter _log;
    readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly TaskCompletionSource<string> _ops = new(TaskCreationOptions.RunContinuationsAsynchronously);
    const string ListeningPrefix = "coordinator listening on ", OpsPrefix = "metrics on ";

    public FedpromptProcess(string name, string logPath, IEnumerable<string> arguments)
    {
        Name = name;
        LogPath = logPath;
        var start = StartInfo(arguments);
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        start.UseShellExecute = false;
        _log = new StreamWriter(logPath) { AutoFlush = true };
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => Line(e.Data);
        _process.ErrorDataReceived += (_, e) => Line(e.Data);
        _process.Exited += (_, _) =>
        {
            _listening.TrySetException(new InvalidOperationException($"{name} exited before listening; see {logPath}"));
            _ops.TrySetException(new InvalidOperationException($"{name} exited before its ops listener was up; see {logPath}"));
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>How to start this program with <paramref name="arguments"/>: the apphost, or <c>dotnet fedprompt.dll</c>; colours off.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!);
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") start.ArgumentList.Add(typeof(FedpromptProcess).Assembly.Location);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["NO_COLOR"] = "1";
        return start;
    }

    public string Name { get; }
    public string LogPath { get; }
    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>The address a coordinator process printed once listening.</summary>
    public Task<string> Listening => _listening.Task;

    /// <summary>What a coordinator started with --ops-listen printed of it: where its metrics and dashboard are.</summary>
    public Task<string> OpsListening => _ops.Task;

    void Line(string? line)
    {
        if (line is null) return;
        lock (_log) _log.WriteLine(line);
        if (line.StartsWith(ListeningPrefix)) _listening.TrySetResult(line[ListeningPrefix.Length..].Trim());
        if (line.StartsWith(OpsPrefix)) _ops.TrySetResult(line[OpsPrefix.Length..].Trim());
    }

    public Task WaitAsync(CancellationToken cancel = default) => _process.WaitForExitAsync(cancel);

    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
    }

    public void Dispose()
    {
        Kill();
        _process.WaitForExit();
        _process.Dispose();
        lock (_log) _log.Dispose();
    }
}
