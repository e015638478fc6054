using System.CommandLine;
using System.Text.Json;
using FederatedPrompts.Modeling.Tokenization;

namespace FederatedPrompts.Cli.Commands;

/// <summary><c>fedprompt tokenize --tokenizer DIR --text TEXT [--json]</c>: token ids as Hugging Face gives them, no special tokens.</summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var tokenizerDir = new Option<string>("--tokenizer") { Description = "Folder with vocab.json + merges.txt, tokenizer.model, tokenizer.json or fedprompt-tokenizer.json", Required = true };
        var text = new Option<string>("--text") { Description = "Text to encode", Required = true };
        var json = CommonOptions.Json();
        var command = new Command("tokenize", "Encode text into token ids") { tokenizerDir, text, json };
        command.SetAction(parse =>
        {
            var tokenizer = TokenizerLoader.FromFolder(parse.GetValue(tokenizerDir)!);
            var ids = tokenizer.Encode(parse.GetValue(text)!);
            Console.WriteLine(parse.GetValue(json)
                ? JsonSerializer.Serialize(new { token_ids = ids })
                : string.Join(' ', ids));
            return 0;
        });
        return command;
    }
}
