using System.Text.Json;
using FederatedPrompts.Modeling.Models;

namespace FederatedPrompts.Cli;

/// <summary>
/// Bad input ends a command with one line naming what is wrong and exit code 2; a stack trace is printed
/// only for genuine bugs (exit code 1), or for everything when FEDPROMPT_DEBUG is set.
/// </summary>
public static class CliErrors
{
    public const int BadInput = 2;
    /// <summary>Stopped by SIGINT or SIGTERM (the shells' 128 + SIGINT; deploy/'s units count it as a clean stop).</summary>
    public const int Stopped = 130;

    public static async Task<int> RunAsync(Func<Task<int>> command)
    {
        try { return await command(); }
        catch (Exception e) when (IsUserError(e) && Environment.GetEnvironmentVariable("FEDPROMPT_DEBUG") is null)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return BadInput;
        }
        catch (OperationCanceledException) when (Environment.GetEnvironmentVariable("FEDPROMPT_DEBUG") is null)
        {
            // System.CommandLine cancels the command's token on SIGINT and SIGTERM; work already saved stays saved.
            Console.Error.WriteLine("stopped: cancelled by a signal");
            return Stopped;
        }
        catch (Grpc.Core.RpcException e) when (Environment.GetEnvironmentVariable("FEDPROMPT_DEBUG") is null)
        {
            // The coordinator's refusal (or its absence) is an answer for the user, not a bug here.
            Console.Error.WriteLine($"error: the coordinator answered {e.StatusCode}: {e.Status.Detail}");
            return BadInput;
        }
    }

    /// <summary>The parser's errors on one line, each naming the option it belongs to ("--knee: Argument 'elbow' not recognized. Must be one of: 'kneed' 'kneedle-global'").</summary>
    public static string Describe(IEnumerable<System.CommandLine.Parsing.ParseError> errors) => string.Join("; ", errors.Select(error =>
    {
        var message = string.Join(' ', error.Message.Split((char[])['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        for (var symbol = error.SymbolResult; symbol is not null; symbol = symbol.Parent)
            if (symbol is System.CommandLine.Parsing.OptionResult option) return $"{option.Option.Name}: {message}";
        return message;
    }));

    static bool IsUserError(Exception e) => e is ModelFormatException or InvalidDataException or FileNotFoundException
        or DirectoryNotFoundException or ArgumentException or JsonException or FormatException or UserInputException
        or NotSupportedException or Core.DataFileException;
}

/// <summary>A command-line value or combination that cannot be used; the message says which and why.</summary>
public sealed class UserInputException(string message) : Exception(message);
