using System.CommandLine;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;

namespace FederatedPrompts.Cli;

/// <summary>--text / --ids: token ids from text (encoded with the model folder's tokenizer, no special tokens) or given directly.</summary>
public sealed class ModelInputs
{
    public readonly Option<string?> Text = new("--text") { Description = "Text, encoded with the model folder's tokenizer without special tokens" };
    public readonly Option<string?> Ids = new("--ids") { Description = "Comma-separated token ids, used as given" };

    public IEnumerable<Option> Options => [Text, Ids];

    /// <summary>Reads the ids before any model is loaded, so a typo fails fast.</summary>
    public int[] Read(ParseResult parse, string modelDir)
    {
        string? text = parse.GetValue(Text), ids = parse.GetValue(Ids);
        if ((text is null) == (ids is null)) throw new UserInputException("give exactly one of --text or --ids");
        return text is not null ? TokenizerLoader.FromFolder(modelDir).Encode(text).ToArray() : CommonOptions.ParseIds(ids!, "--ids");
    }

    public static void RequireFits(IReadOnlyCollection<int> tokens, CausalLM model)
    {
        var outside = tokens.Where(id => id >= model.VocabSize).Distinct().ToArray();
        if (outside.Length > 0)
            throw new UserInputException($"token ids {string.Join(", ", outside)} are outside the model's vocabulary of {model.VocabSize}");
        if (tokens.Count > model.Config.MaxPositions)
            throw new UserInputException($"{tokens.Count} tokens exceed the model's {model.Config.MaxPositions} positions");
    }
}
