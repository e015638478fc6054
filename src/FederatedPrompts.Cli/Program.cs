using System.CommandLine;
using FederatedPrompts.Cli;

// Before any tensor: freed tensors' memory goes back to the system instead of piling up in malloc's heaps (NativeHeap).
FederatedPrompts.Modeling.Models.NativeHeap.ReturnLargeBlocks();
var root = FedpromptCommands.Root();
// Spectre.Console wraps at 80 columns when it cannot see a terminal; a file or journald wants each line whole.
if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 1000;
// Exceptions reach CliErrors, which tells bad input (one line, exit 2) from bugs (stack trace, exit 1); options with
// their own parsers throw while parsing, so parsing happens inside it too.
return await CliErrors.RunAsync(() =>
{
    var parse = root.Parse(args);
    // A command line the parser refuses (unknown option, a value outside an option's choices) is bad input like any other.
    if (parse.Errors.Count > 0) throw new UserInputException(CliErrors.Describe(parse.Errors));
    return parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
});
