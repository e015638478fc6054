using System.CommandLine;
using System.Text.Json;
using FederatedPrompts.Modeling.Models;

namespace FederatedPrompts.Cli.Commands;

/// <summary>
/// <c>fedprompt lm score --model DIR (--text T | --ids 1,2,3) [--json]</c>: per-token log-probabilities,
/// logprobs[i] = log p(token_ids[i+1] | token_ids[0..i]), and their mean negative log-likelihood.
/// </summary>
public static class LmCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var input = new ModelInputs();
        var device = CommonOptions.Device();
        var json = CommonOptions.Json();
        var score = new Command("score", "Score a token sequence with a causal language model") { model, device, json };
        foreach (var option in input.Options) score.Add(option);
        score.SetAction(parse =>
        {
            string dir = parse.GetValue(model)!;
            int[] tokens = input.Read(parse, dir);
            if (tokens.Length < 2) throw new UserInputException("scoring needs at least two tokens (the first one is only context)");
            using var lm = HfCheckpoint.Load(dir, CommonOptions.ResolveDevice(parse.GetValue(device)!));
            ModelInputs.RequireFits(tokens, lm);
            double[] logprobs = LanguageModelScoring.TokenLogProbs(lm, tokens);
            double meanNll = -logprobs.Average();
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new { token_ids = tokens, logprobs, mean_nll = meanNll }));
            else
            {
                for (int i = 0; i < logprobs.Length; i++)
                    Console.WriteLine($"{tokens[i + 1],8}  {logprobs[i],12:F6}");
                Console.WriteLine($"mean NLL {meanNll:F6}  perplexity {Math.Exp(meanNll):F3}");
            }
            return 0;
        });
        return new Command("lm", "Language-model utilities") { score };
    }
}
