using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;

namespace FederatedPrompts.Cli;

/// <summary>Token ids from exactly one of --text (encoded with the model folder's tokenizer) or --ids.</summary>
public static class ModelInputs
{
    /// <summary>Reads the ids before any model is loaded, so a typo fails fast.</summary>
    public static int[] Ids(string modelDir, string? text, string? ids)
    {
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
