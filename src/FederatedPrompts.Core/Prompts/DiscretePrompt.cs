namespace FederatedPrompts.Core.Prompts;

/// <summary>
/// A prompt of real tokens: ids in the vocabulary named by <see cref="TokenizerIdentity"/>, with their decoded
/// <see cref="Text"/> where known (for people to read; the ids are what count).
/// </summary>
public sealed class DiscretePrompt : Prompt
{
    public const string Format = "discrete-prompt";

    readonly int[] _tokenIds;

    public DiscretePrompt(IEnumerable<int> tokenIds, string tokenizerIdentity, string? text = null)
    {
        _tokenIds = tokenIds.ToArray();
        if (_tokenIds.Length == 0) throw new ArgumentException("discrete prompt has no tokens");
        var negative = Array.FindIndex(_tokenIds, id => id < 0);
        if (negative >= 0)
            throw new ArgumentException($"discrete prompt token {negative} has negative id {_tokenIds[negative]}");
        if (string.IsNullOrWhiteSpace(tokenizerIdentity))
            throw new ArgumentException("discrete prompt has no tokenizer identity");
        TokenizerIdentity = tokenizerIdentity;
        Text = text;
    }

    public override PromptMode Mode => PromptMode.Discrete;
    public override int Length => _tokenIds.Length;
    public IReadOnlyList<int> TokenIds => _tokenIds;
    public string TokenizerIdentity { get; }
    public string? Text { get; }

    public void Save(string path) =>
        PromptJson.Save(path, new DiscretePromptFile(Format, TokenizerIdentity, _tokenIds, Text));

    public static DiscretePrompt Load(string path) => PromptJson.Load<DiscretePromptFile, DiscretePrompt>(path, Format,
        file => new DiscretePrompt(file.TokenIds, file.TokenizerIdentity, file.Text));

    sealed record DiscretePromptFile(string Format, string TokenizerIdentity, int[] TokenIds, string? Text = null);
}
