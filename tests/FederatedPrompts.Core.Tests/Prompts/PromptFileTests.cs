using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Core.Tests.Prompts;

public sealed class PromptFileTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Soft_prompt_round_trips_exactly()
    {
        float[] values = [0.1f, -2.5e-8f, 3f, float.MaxValue, -0f, 1f / 3];
        var prompt = new SoftPrompt(values, length: 3, hiddenSize: 2, modelIdentity: "gpt2:abc123");
        var path = _dir.Combine("p.json");
        prompt.Save(path);
        var loaded = SoftPrompt.Load(path);
        Assert.Equal(values, loaded.Values.ToArray());
        Assert.Equal((3, 2, "gpt2:abc123"), (loaded.Length, loaded.HiddenSize, loaded.ModelIdentity));
    }

    [Fact]
    public void Soft_prompt_copies_its_input()
    {
        float[] values = [1f, 2f];
        var prompt = new SoftPrompt(values, 1, 2, "m");
        values[0] = 9f;
        Assert.Equal(1f, prompt.Values.Span[0]);
    }

    [Theory]
    [InlineData(float.NaN, "value NaN at row 1, column 0 is not finite")]
    [InlineData(float.PositiveInfinity, "is not finite")]
    public void Soft_prompt_rejects_non_finite_values(float bad, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => new SoftPrompt([0f, 1f, bad, 2f], 2, 2, "m"));
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData(5, 2, 2, "has 5 values, but length 2 × hidden size 2 = 4")]
    [InlineData(0, 0, 4, "soft prompt is empty")]
    [InlineData(0, 3, 0, "soft prompt is empty")]
    public void Soft_prompt_rejects_bad_shapes(int values, int length, int hidden, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => new SoftPrompt(new float[values], length, hidden, "m"));
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData("{\"format\":\"soft-prompt\",\"model_identity\":\"m\",\"length\":1,\"hidden_size\":2,\"values\":[1,1e40]}", "is not finite")]
    [InlineData("{\"format\":\"soft-prompt\",\"model_identity\":\"m\",\"length\":2,\"hidden_size\":2,\"values\":[1,2]}", "has 2 values, but length 2")]
    [InlineData("{\"format\":\"soft-prompt\",\"model_identity\":\"m\",\"length\":1,\"hidden_size\":2,\"values\":[1,NaN]}", "not a valid soft-prompt file")]
    [InlineData("{\"format\":\"soft-prompt\",\"model_identity\":\"m\",\"length\":1,\"hidden_size\":2}", "missing required properties")]
    [InlineData("{\"format\":\"discrete-prompt\",\"tokenizer_identity\":\"t\",\"token_ids\":[1]}", "expected format \"soft-prompt\", found \"discrete-prompt\"")]
    [InlineData("{\"format\":\"soft-prompt\",\"model_identity\":\"\",\"length\":1,\"hidden_size\":1,\"values\":[1]}", "no model identity")]
    public void Soft_prompt_load_rejects_bad_files_naming_them(string json, string message)
    {
        var path = _dir.Write("bad-soft.json", json);
        var error = Assert.Throws<DataFileException>(() => SoftPrompt.Load(path));
        Assert.StartsWith(path + ":", error.Message);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Discrete_prompt_round_trips_with_and_without_text()
    {
        var path = _dir.Combine("d.json");
        new DiscretePrompt([15496, 995], "gpt2-bpe:deadbeef", "Hello world").Save(path);
        var loaded = DiscretePrompt.Load(path);
        Assert.Equal([15496, 995], loaded.TokenIds);
        Assert.Equal(("gpt2-bpe:deadbeef", "Hello world"), (loaded.TokenizerIdentity, loaded.Text));

        new DiscretePrompt([3], "t").Save(path);
        Assert.Null(DiscretePrompt.Load(path).Text);
    }

    [Theory]
    [InlineData("{\"format\":\"discrete-prompt\",\"tokenizer_identity\":\"t\",\"token_ids\":[]}", "has no tokens")]
    [InlineData("{\"format\":\"discrete-prompt\",\"tokenizer_identity\":\"t\",\"token_ids\":[4,-1]}", "token 1 has negative id -1")]
    [InlineData("{\"format\":\"discrete-prompt\",\"tokenizer_identity\":\" \",\"token_ids\":[4]}", "no tokenizer identity")]
    [InlineData("{\"format\":\"discrete-prompt\",\"token_ids\":[4]}", "missing required properties")]
    [InlineData("{\"format\":\"discrete-prompt\",\n\"tokenizer_identity\":\"t\",\n\"token_ids\":[4,]}", "bad-discrete.json:3:")]
    public void Discrete_prompt_load_rejects_bad_files_naming_them(string json, string message)
    {
        var path = _dir.Write("bad-discrete.json", json);
        var error = Assert.Throws<DataFileException>(() => DiscretePrompt.Load(path));
        Assert.StartsWith(path + ":", error.Message);
        Assert.Contains(message, error.Message);
    }
}
