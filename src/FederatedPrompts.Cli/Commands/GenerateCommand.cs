using System.CommandLine;
using System.Text.Json;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;

namespace FederatedPrompts.Cli.Commands;

/// <summary><c>fedprompt generate --model DIR (--text T | --ids ..) [--max-new-tokens N] [--bos]</c>: greedy continuation.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var input = new ModelInputs();
        var maxNew = new Option<int>("--max-new-tokens") { Description = "How many tokens to generate", DefaultValueFactory = _ => 50 };
        var bos = new Option<bool>("--bos") { Description = "Prepend the model's BOS token (Llama models expect it)" };
        var device = CommonOptions.Device();
        var json = CommonOptions.Json();
        var command = new Command("generate", "Greedy text generation") { model, maxNew, bos, device, json };
        foreach (var option in input.Options) command.Add(option);
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(model)!;
            var prompt = input.Read(parse, dir).ToList();
            if (parse.GetValue(maxNew) < 1) throw new UserInputException("--max-new-tokens must be at least 1");
            using var lm = HfCheckpoint.Load(dir, CommonOptions.ResolveDevice(parse.GetValue(device)!));
            if (parse.GetValue(bos))
                prompt.Insert(0, lm.Config.BosTokenId ?? throw new UserInputException($"{dir}/config.json has no bos_token_id"));
            ModelInputs.RequireFits(prompt, lm);
            var generated = LanguageModelScoring.Generate(lm, prompt, parse.GetValue(maxNew), lm.Config.EosTokenId);
            string? decoded = TokenizerLoader.TryFromFolder(dir)?.Decode(generated);
            Console.WriteLine(parse.GetValue(json)
                ? JsonSerializer.Serialize(new { prompt_ids = prompt, generated_ids = generated, text = decoded })
                : decoded ?? string.Join(',', generated));
            return 0;
        });
        return command;
    }
}
