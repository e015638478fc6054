using System.Text.Json;

namespace FederatedPrompts.Core.Prompts;

/// <summary>Reads and writes the prompt file formats, turning every problem into a <see cref="DataFileException"/>.</summary>
static class PromptJson
{
    static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };

    public static void Save<TFile>(string path, TFile file) =>
        File.WriteAllText(path, JsonSerializer.Serialize(file, Options));

    /// <summary>Deserializes <typeparamref name="TFile"/>, checks its <c>format</c> tag, then builds (and so validates) the value.</summary>
    public static TValue Load<TFile, TValue>(string path, string format, Func<TFile, TValue> build)
        where TFile : IPromptFile
    {
        TFile? file;
        try
        {
            file = JsonSerializer.Deserialize<TFile>(File.ReadAllText(path), Options);
        }
        catch (JsonException e)
        {
            throw new DataFileException(path, (int?)e.LineNumber + 1, $"not a valid {format} file: {e.Message}", e);
        }
        if (file is null) throw new DataFileException(path, null, $"not a valid {format} file: null");
        if (file.Format != format)
            throw new DataFileException(path, null, $"expected format \"{format}\", found \"{file.Format}\"");
        try
        {
            return build(file);
        }
        catch (ArgumentException e)
        {
            throw new DataFileException(path, null, e.Message, e);
        }
    }
}

interface IPromptFile
{
    string Format { get; }
}
