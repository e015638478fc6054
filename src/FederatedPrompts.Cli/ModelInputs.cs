using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;

namespace FederatedPrompts.Cli;

/// <summary>Token ids from exactly one of --text (encoded with the model folder's tokenizer) or --ids.</summary>
public static class ModelInputs
{
    public static int[] Ids(string modelDir, CausalLM model, string? text, string? ids)
    {
        if ((text is null) == (ids is null)) throw new UserInputException("give exactly one of --text or --ids");
        int[] tokens = text is not null
            ? TokenizerLoader.FromFolder(modelDir).Encode(text).ToArray()
            : CommonOptions.ParseIds(ids!, "--ids");
        var outside = tokens.Where(id => id >= model.VocabSize).ToArray();
        if (outside.Length > 0)
            throw new UserInputException($"token ids {string.Join(", ", outside.Distinct())} are outside the model's vocabulary of {model.VocabSize}");
        if (tokens.Length > model.Config.MaxPositions)
            throw new UserInputException($"{tokens.Length} tokens exceed the model's {model.Config.MaxPositions} positions");
        return tokens;
    }
}
