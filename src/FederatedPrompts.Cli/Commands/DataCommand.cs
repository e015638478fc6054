using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace FederatedPrompts.Cli.Commands;

/// <summary><c>fedprompt data builtin --out DIR</c>: writes the built-in generated corpus and task as files to inspect or reuse.</summary>
public static class DataCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Folder for the generated corpus and task files", DefaultValueFactory = _ => Path.Combine("runs", "builtin-data") };
        var seed = CommonOptions.Seed();
        var builtin = new Command("builtin", "Write the built-in corpus (corpus.jsonl) and sentiment task (train/test .jsonl)") { output, seed };
        builtin.SetAction(parse =>
        {
            string dir = parse.GetValue(output)!;
            int s = parse.GetValue(seed);
            Directory.CreateDirectory(dir);
            void Write(string name, IEnumerable<object> rows)
            {
                string path = Path.Combine(dir, name);
                File.WriteAllLines(path, rows.Select(r => JsonSerializer.Serialize(r)));
                AnsiConsole.MarkupLine($"wrote [blue]{Markup.Escape(path)}[/]");
            }
            Write("corpus.jsonl", BuiltInData.Corpus(s).Select(text => new { text }));
            Write("sentiment-train.jsonl", BuiltInData.SentimentTrain(s).Examples.Select(e => new { text = e.Text, label = e.Label }));
            Write("sentiment-test.jsonl", BuiltInData.SentimentTest(s).Examples.Select(e => new { text = e.Text, label = e.Label }));
            return 0;
        });
        return new Command("data", "Built-in data sets") { builtin };
    }
}
