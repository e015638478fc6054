using System.Diagnostics;
using System.Text.Json;
using FederatedPrompts.Modeling.Models;

namespace FederatedPrompts.Cli;

/// <summary>
/// How a command ends: 0 on success; 2 for bad input (a command line, file or value that cannot be used, or a refusal
/// by the coordinator), with one <c>error:</c> line naming what is wrong; 130 when stopped by SIGINT or SIGTERM; 1 for a
/// bug, with the stack trace. With the environment variable FEDPROMPT_DEBUG set, every failure prints its stack trace
/// (the exit codes stay the same).
/// </summary>
public static class CliErrors
{
    public const int Bug = 1;
    public const int BadInput = 2;
    /// <summary>Stopped by SIGINT or SIGTERM (the shells' 128 + SIGINT; deploy/'s units count it as a clean stop).</summary>
    public const int Stopped = 130;

    static bool Debugging => Environment.GetEnvironmentVariable("FEDPROMPT_DEBUG") is not null;

    public static async Task<int> RunAsync(Func<Task<int>> command)
    {
        try { return await command(); }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine(Debugging ? $"error: {e}" : $"error: {OneLine(e.Message)}");
            return BadInput;
        }
        catch (OperationCanceledException e)
        {
            // System.CommandLine cancels the command's token on SIGINT and SIGTERM; work already saved stays saved.
            Console.Error.WriteLine(Debugging ? $"stopped: {e}" : "stopped: cancelled by a signal");
            return Stopped;
        }
        catch (Grpc.Core.RpcException e)
        {
            // The coordinator's refusal (or its absence) is an answer for the user, not a bug here.
            Console.Error.WriteLine($"error: the coordinator answered {e.StatusCode}: {e.Status.Detail}" + (Debugging ? $"\n{e}" : ""));
            return BadInput;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"fedprompt: internal error, a bug (please report it with this trace):\n{e}");
            return Bug;
        }
    }

    /// <summary>The parser's errors on one line, each naming the option it belongs to ("--knee: Argument 'elbow' not recognized. Must be one of: 'kneed' 'kneedle-global'").</summary>
    public static string Describe(IEnumerable<System.CommandLine.Parsing.ParseError> errors) => string.Join("; ", errors.Select(error =>
    {
        var message = OneLine(error.Message);
        for (var symbol = error.SymbolResult; symbol is not null; symbol = symbol.Parent)
            if (symbol is System.CommandLine.Parsing.OptionResult option) return $"{option.Option.Name}: {message}";
        return message;
    }));

    /// <summary>A message's lines joined by spaces (.NET's own messages may span lines: "…value.\nActual value was -1.").</summary>
    static string OneLine(string message) =>
        string.Join(' ', message.Split((char[])['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    static bool IsUserError(Exception e) => e is ModelFormatException or InvalidDataException or FileNotFoundException
        or DirectoryNotFoundException or JsonException or FormatException or UserInputException or NotSupportedException or Core.DataFileException
        || (e is ArgumentException && ThrownByThisProject(e));

    /// <summary>
    /// Whether the code that decided to throw is this project's. Its own checks throw ArgumentException for values that
    /// came from input (a token id outside the vocabulary, a bad α); the same exception from inside .NET (an index out of
    /// range in a list, a null argument) means this project called it wrongly: a bug. The exception types' own throw
    /// helpers (ArgumentOutOfRangeException.ThrowIfNegative) are skipped: their caller decided.
    /// </summary>
    static bool ThrownByThisProject(Exception e)
    {
        foreach (var frame in new StackTrace(e).GetFrames())
        {
            var type = frame.GetMethod()?.DeclaringType;
            if (type is null || typeof(Exception).IsAssignableFrom(type)) continue;
            return type.Namespace?.StartsWith("FederatedPrompts", StringComparison.Ordinal) == true;
        }
        return false;
    }
}

/// <summary>A command-line value or combination that cannot be used; the message says which and why.</summary>
public sealed class UserInputException(string message) : Exception(message);
