using System.CommandLine;
using System.Text.Json;
using FederatedPrompts.Client;
using FederatedPrompts.Client.Work;
using FederatedPrompts.Core.Tasks;
using Spectre.Console;

namespace FederatedPrompts.Cli.Commands;

/// <summary>
/// <c>fedprompt client --coordinator URL --task private.jsonl --mode soft|discrete --certs DIR --identity NAME</c>: one
/// organization's client. Its examples stay on this machine (discrete mode sends texts to the coordinator's
/// inference service, by design); it uploads prompts, counts, metrics and ε.
/// </summary>
public static class ClientCommand
{
    public static Command Create()
    {
        var transport = new FederationTransport("client-1");
        var privateTask = new Option<string>("--task") { Description = "This organization's private labeled file (.jsonl/.csv/.tsv; never sent)", Required = true };
        var mode = new Option<string>("--mode") { Description = "soft (POST tuning) or discrete (FedDTPT search; sends texts to the inference service)", Required = true }
            .AcceptOnlyFromAmong("soft", "discrete");
        var cache = new Option<string>("--cache") { Description = "Model cache folder (by hash; may be shared)", DefaultValueFactory = _ => Path.Combine("runs", "client-cache") };
        var state = new Option<string?>("--state") { Description = "This client's state folder (privacy ledger); default runs/client-state/IDENTITY" };
        var json = CommonOptions.Json();
        var command = new Command("client", "Run a federation client on private data") { privateTask, mode, cache, state, json };
        foreach (var option in transport.Options) command.Add(option);
        command.SetAction(async (parse, cancel) =>
        {
            var examples = TaskFile.Load(parse.GetValue(privateTask)!).RequireAtLeastTwoClasses();
            ILocalWork work = parse.GetValue(mode) == "soft" ? new SoftLocalWork(examples) : new DiscreteLocalWork(examples);   // the parser admits only the two
            string identity = parse.GetValue(transport.Identity)!;
            var options = new ClientLoopOptions
            {
                Identity = identity, CacheDirectory = parse.GetValue(cache)!, StateDirectory = parse.GetValue(state) ?? Path.Combine("runs", "client-state", identity),
            };
            bool quiet = parse.GetValue(json);
            var events = new Progress<ClientEvent>(e =>
            {
                if (!quiet) AnsiConsole.MarkupLine($"[grey]{DateTime.Now:HH:mm:ss}[/] {Markup.Escape(e.ClientId)} round {e.Round}: {Markup.Escape(e.What)}");
            });
            var summary = await new ClientLoop(transport.Connect(parse), work, options).RunAsync(events, cancel);
            if (quiet)
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    client_id = summary.ClientId, run_id = summary.RunId, rounds_trained = summary.RoundsTrained, epsilon_spent = summary.EpsilonSpent,
                    finish_reason = summary.FinishReason,
                }));
            else
                AnsiConsole.MarkupLine($"{Markup.Escape(summary.ClientId)} trained in rounds [[{string.Join(", ", summary.RoundsTrained)}]]" +
                                       (summary.EpsilonSpent is double eps ? $", spent ε = {eps:F2}" : ""));
            return 0;
        });
        return command;
    }
}
