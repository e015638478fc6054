using System.CommandLine;
using FederatedPrompts.Cli.Commands;

namespace FederatedPrompts.Cli;

/// <summary>The <c>fedprompt</c> command tree, built in one place for the program and for the tests that check it.</summary>
public static class FedpromptCommands
{
    public static RootCommand Root() => new("fedprompt: federated prompt tuning of language models (POST soft prompts, FedDTPT discrete prompts)")
    {
        TokenizeCommand.Create(),
        LmCommand.Create(),
        GenerateCommand.Create(),
        EvalCommand.Create(),
        PretrainCommand.Create(),
        DistillCommand.Create(),
        TuneCommand.Create(),
        TransferCommand.Create(),
        DataCommand.Create(),
        BenchCommand.Create(),
        PrivacyCommand.Create(),
        AggregateCommand.Create(),
        SearchCommand.Create(),
        CoordinatorCommand.Create(),
        HealthCommand.Create(),
        ClientCommand.Create(),
        OperatorCommand.Create(),
        FederatedPrompts.Cli.Simulation.SimulateCommand.Create(),
        CertsCommand.Create(),
    };
}
