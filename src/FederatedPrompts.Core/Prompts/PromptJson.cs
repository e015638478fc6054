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

    /// <summary>Checks the file's <c>format</c> tag, deserializes <typeparamref name="TFile"/>, then builds (and so validates) the value.</summary>
    public static TValue Load<TFile, TValue>(string path, string format, Func<TFile, TValue> build)
    {
        TFile? file;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement;
            var found = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("format", out var tag)
                ? tag.ToString()
                : "(none)";
            if (found != format) throw new DataFileException(path, null, $"expected format \"{format}\", found \"{found}\"");
            file = root.Deserialize<TFile>(Options);
        }
        catch (JsonException e)
        {
            throw new DataFileException(path, (int?)e.LineNumber + 1, $"not a valid {format} file: {e.Message}", e);
        }
        if (file is null) throw new DataFileException(path, null, $"not a valid {format} file: null");
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
