namespace FederatedPrompts.Core.Prompts;

/// <summary>
/// Continuous prompt vectors prepended to a model's input embeddings: <see cref="Length"/> rows of
/// <see cref="HiddenSize"/> floats, row-major. <see cref="ModelIdentity"/> names the model whose embedding space the
/// vectors live in, so they are not applied to another model by mistake.
/// </summary>
public sealed class SoftPrompt : Prompt
{
    public const string Format = "soft-prompt";

    readonly float[] _values;

    public SoftPrompt(ReadOnlySpan<float> values, int length, int hiddenSize, string modelIdentity)
    {
        if (length <= 0 || hiddenSize <= 0)
            throw new ArgumentException($"soft prompt is empty: length {length}, hidden size {hiddenSize}");
        if (values.Length != (long)length * hiddenSize)
            throw new ArgumentException(
                $"soft prompt has {values.Length} values, but length {length} × hidden size {hiddenSize} = {(long)length * hiddenSize}");
        var firstBad = IndexOfNonFinite(values);
        if (firstBad >= 0)
            throw new ArgumentException(
                $"soft prompt value {values[firstBad]} at row {firstBad / hiddenSize}, column {firstBad % hiddenSize} is not finite");
        if (string.IsNullOrWhiteSpace(modelIdentity)) throw new ArgumentException("soft prompt has no model identity");
        _values = values.ToArray();
        Length = length;
        HiddenSize = hiddenSize;
        ModelIdentity = modelIdentity;
    }

    public ReadOnlyMemory<float> Values => _values;

    /// <summary>The vectors, one array per position (copies).</summary>
    public float[][] Rows() => Enumerable.Range(0, Length).Select(i => _values.AsSpan(i * HiddenSize, HiddenSize).ToArray()).ToArray();

    public override PromptMode Mode => PromptMode.Soft;
    public override int Length { get; }
    public int HiddenSize { get; }
    public string ModelIdentity { get; }

    public void Save(string path) => PromptJson.Save(path, new SoftPromptFile(Format, ModelIdentity, Length, HiddenSize, _values));

    public static SoftPrompt Load(string path) => PromptJson.Load<SoftPromptFile, SoftPrompt>(path, Format,
        file => new SoftPrompt(file.Values, file.Length, file.HiddenSize, file.ModelIdentity));

    static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        for (var i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    /// <summary>The JSON layout; numbers beyond float range read as infinities, which the constructor rejects.</summary>
    sealed record SoftPromptFile(string Format, string ModelIdentity, int Length, int HiddenSize, float[] Values);
}
