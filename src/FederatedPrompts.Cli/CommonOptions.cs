using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using FederatedPrompts.Discrete.BlackBox;
using FederatedPrompts.Post.Privacy;
using TorchSharp;

namespace FederatedPrompts.Cli;

/// <summary>Options several verbs share, so they read and behave the same everywhere.</summary>
public static class CommonOptions
{
    public static Option<string> Model(string description = "Hugging Face model folder (config.json + model.safetensors)") =>
        new("--model") { Description = description, Required = true };

    public static Option<string> Device() => new Option<string>("--device")
    {
        Description = "Where to compute: cpu, or cuda with a CUDA build of TorchSharp (the TorchSharp-cpu this tool ships with has none: cuda then fails with one error line)",
        DefaultValueFactory = _ => "cpu",
    }.AcceptOnlyFromAmong("cpu", "cuda");

    public static Option<bool> Json() => new("--json") { Description = "Print one JSON object instead of text" };

    /// <summary>--windows-at-documents for pretrain and distill: see <see cref="FederatedPrompts.Modeling.Training.PretrainOptions.WindowsAtDocuments"/>.</summary>
    public static Option<bool> WindowsAtDocuments() => new("--windows-at-documents")
    {
        Description = "Start every training window at a document (after end-of-text) instead of anywhere in the token stream",
    };

    /// <summary>--black-box for the verbs that run FedDTPT's black box: <see cref="BlackBoxes"/>.</summary>
    public static Option<string> BlackBox(string lmDescription) => new Option<string>("--black-box")
    {
        Description = $"What answers the discrete prompt's queries: lm ({lmDescription}) or minilm (the pretrained sentence encoder all-MiniLM-L6-v2, " +
                      "by similarity of prompt + text to the task's label descriptions; the prompt's tokens are decoded to text)",
        DefaultValueFactory = _ => BlackBoxes.Lm,
    }.AcceptOnlyFromAmong([.. BlackBoxes.Names]);

    /// <summary>--accountant for the verbs that turn DP-SGD steps into (ε, δ): <see cref="PrivacyAccountants"/>.</summary>
    public static Option<string> Accountant() => new Option<string>("--accountant")
    {
        Description = "Privacy accountant: prv (numerical composition of privacy loss distributions, Gopi et al. 2021; tight, Opacus' default) " +
                      "or rdp (Rényi DP; a looser upper bound)",
        DefaultValueFactory = _ => PrivacyAccountants.Name(PrivacyAccountants.Default),
    }.AcceptOnlyFromAmong([.. PrivacyAccountants.Names]);

    /// <summary>--inference-wait-ms for the coordinator and its benchmark: <see cref="FederatedPrompts.Coordinator.Models.InferenceBatching.MaxWait"/>.</summary>
    public static Option<double> InferenceWaitMs(string description) => new("--inference-wait-ms")
    {
        Description = description, DefaultValueFactory = _ => FederatedPrompts.Coordinator.Models.InferenceBatching.Default.MaxWait.TotalMilliseconds,
    };

    /// <summary>The --inference-wait-ms value as a wait, 0 to 1,000 ms.</summary>
    public static TimeSpan InferenceWait(double milliseconds) => milliseconds is >= 0 and <= 1000
        ? TimeSpan.FromMilliseconds(milliseconds)
        : throw new UserInputException("--inference-wait-ms must be between 0 and 1000");

    public static Option<int> Seed(int fallback = 1) => new("--seed") { Description = "Random seed (every run is reproducible from it)", DefaultValueFactory = _ => fallback };

    public static torch.Device ResolveDevice(string name)
    {
        if (name == "cuda" && !torch.cuda.is_available())
            throw new UserInputException("--device cuda: no CUDA device is available to this build (TorchSharp-cpu); use --device cpu");
        return name == "cuda" ? torch.CUDA : torch.CPU;
    }

    /// <summary>Parses "1,2,3" into token ids, rejecting anything that is not a non-negative integer.</summary>
    public static int[] ParseIds(string text, string optionName)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new UserInputException($"{optionName}: no token ids given");
        return parts.Select(p => int.TryParse(p, out var id) && id >= 0 ? id
            : throw new UserInputException($"{optionName}: \"{p}\" is not a token id (non-negative integer)")).ToArray();
    }

    public static readonly JsonSerializerOptions JsonLine = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static readonly JsonSerializerOptions JsonFile = new(JsonLine) { WriteIndented = true };
}
