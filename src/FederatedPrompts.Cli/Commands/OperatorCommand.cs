using System.CommandLine;
using System.Text.Json;
using FederatedPrompts.Protocol;
using FederatedPrompts.Protocol.V1;
using Spectre.Console;

namespace FederatedPrompts.Cli.Commands;

/// <summary><c>fedprompt operator status|start|create|results|prompt</c>: the operator's view of the coordinator (operator certificate only).</summary>
public static class OperatorCommand
{
    public static Command Create()
    {
        var command = new Command("operator", "Operate the coordinator: create and start runs, status, results, the final prompt");
        var json = CommonOptions.Json();
        command.Add(Verb("status", "Show the current run's state and rounds", async (service, run, parse) =>
        {
            var status = await service.GetStatusAsync(run);
            if (parse.GetValue(json)) { Console.WriteLine(Google.Protobuf.JsonFormatter.Default.Format(status)); return; }
            AnsiConsole.MarkupLine($"run [blue]{Markup.Escape(status.RunId)}[/]: {status.State}, round {status.Round}/{status.TotalRounds} " +
                                   $"({status.RoundState}), {status.EnrolledClients} enrolled, {status.UploadsInRound}/{status.SampledClients} updates in");
            var table = new Table().AddColumns("round", "mode", "state", "updates", "held-out accuracy", "prompt length");
            foreach (var r in status.Rounds)
                table.AddRow(r.Round.ToString(), r.Mode == Mode.Soft ? "soft" : "discrete", r.State, $"{r.Uploads}/{r.Sampled}",
                    double.IsNaN(r.Accuracy) ? "" : r.Accuracy.ToString("P1"), r.PromptLength.ToString());
            AnsiConsole.Write(table);
            if (status.Error.Length > 0) AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(status.Error)}");
        }, json: json));
        command.Add(Verb("start", "Start a created run", async (service, run, _) =>
            Console.WriteLine((await service.StartRunAsync(run)).State)));
        var config = new Option<string>("--config") { Description = "Run configuration (JSON; paths as the coordinator sees them)", Required = true };
        command.Add(Verb("create", "Create a run from a configuration (started with operator start)", async (service, _, parse) =>
            Console.WriteLine((await service.CreateRunAsync(new CreateRunRequest { ConfigJson = File.ReadAllText(parse.GetValue(config)!) })).RunId),
            namesRun: false, options: config));
        command.Add(Verb("results", "Print the run's report (JSON)", async (service, run, _) =>
            Console.WriteLine((await service.GetResultsAsync(run)).ReportJson)));
        var output = new Option<string>("--out") { Description = "Where to write the final prompt (JSON)", Required = true };
        var promptMode = new Option<string?>("--mode") { Description = "Which prompt of a hybrid run: soft or discrete (other runs have one)" }.AcceptOnlyFromAmong("soft", "discrete");
        command.Add(Verb("prompt", "Download the run's final prompt for the large model", async (service, run, parse) =>
        {
            run.Mode = parse.GetValue(promptMode) switch { "soft" => Mode.Soft, "discrete" => Mode.Discrete, _ => Mode.Unspecified };
            var prompt = (await service.DownloadPromptAsync(run)).Prompt;
            string path = parse.GetValue(output)!;
            if (prompt.KindCase == PromptValue.KindOneofCase.Soft) PromptMessages.ToSoftPrompt(prompt).Save(path);
            else PromptMessages.ToDiscretePrompt(prompt).Save(path);
            Console.WriteLine(path);
        }, options: [output, promptMode]));
        return command;
    }

    /// <summary>
    /// One operator verb over the Operator service. <paramref name="json"/>: the verb can print JSON (--json);
    /// <paramref name="namesRun"/>: it acts on a run (--run, default the current one); a verb gets only the options it uses.
    /// </summary>
    static Command Verb(string name, string description, Func<Operator.OperatorClient, RunRef, ParseResult, Task> action,
        bool namesRun = true, Option<bool>? json = null, params Option[] options)
    {
        var transport = new FederationTransport("operator");
        var runId = new Option<string>("--run") { Description = "Run id (default: the current run)", DefaultValueFactory = _ => "" };
        var command = new Command(name, description);
        if (namesRun) command.Add(runId);
        if (json is not null) command.Add(json);
        foreach (var option in transport.Options.Concat(options)) command.Add(option);
        command.SetAction(async parse =>
        {
            await action(new Operator.OperatorClient(transport.Connect(parse)), new RunRef { RunId = namesRun ? parse.GetValue(runId)! : "" }, parse);
            return 0;
        });
        return command;
    }
}
