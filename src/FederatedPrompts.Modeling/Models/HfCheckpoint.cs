using TorchSharp;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Models;

/// <summary>
/// Hugging Face model folders (config.json + model.safetensors, or shards with model.safetensors.index.json) ↔
/// <see cref="CausalLM"/>. Parameter names equal checkpoint names, so loading and saving are a name map; weights
/// are always computed in float32 whatever the storage dtype.
/// </summary>
public static class HfCheckpoint
{
    public const string ConfigFileName = "config.json";
    const double InitStd = 0.02;

    /// <summary>An untrained model of the config's family (parameters uninitialised until loaded or initialised).</summary>
    static CausalLM Construct(TransformerConfig config) => config.Family switch
    {
        ModelFamily.Gpt2 => new Gpt2Model(config),
        ModelFamily.Llama => new LlamaModel(config),
        _ => throw new ArgumentException($"unknown model family {config.Family}"),
    };

    /// <summary>
    /// A randomly initialised model, as Hugging Face's _init_weights does: matrices and embeddings ~ N(0, 0.02), biases 0,
    /// norm weights 1, and for GPT-2 the residual projections c_proj ~ N(0, 0.02/√(2·layers)). Deterministic under the seed.
    /// </summary>
    public static CausalLM Create(TransformerConfig config, int seed)
    {
        config.Validate("config");
        var model = Construct(config);
        using var generator = new Generator((ulong)seed);
        using (no_grad())
        {
            foreach (var (name, parameter) in model.named_parameters())
            {
                if (name.EndsWith(".bias")) parameter.zero_();
                else if (parameter.dim() == 1) parameter.fill_(1.0); // the only 1-D weights are norm scales
                else if (config.Family == ModelFamily.Gpt2 && name.EndsWith("c_proj.weight"))
                    parameter.normal_(0, InitStd / Math.Sqrt(2 * config.NumLayers), generator);
                else parameter.normal_(0, InitStd, generator);
            }
        }
        model.eval();
        return model;
    }

    /// <summary>
    /// Loads a model folder. Every parameter must be present with exactly its shape, and no tensor may be left over
    /// except known non-parameter buffers; otherwise <see cref="ModelFormatException"/> names the file and tensor.
    /// </summary>
    public static CausalLM Load(string dir, Device? device = null)
    {
        var config = TransformerConfig.Load(Path.Combine(dir, ConfigFileName));
        var stored = SafeTensors.ReadCheckpointHeaders(dir);
        var model = Construct(config);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);

        var sources = new Dictionary<string, (SafeTensors.Header File, SafeTensors.Entry Entry)>();
        foreach (var (checkpointName, (file, entry)) in stored)
        {
            string? parameterName = ParameterName(config, checkpointName);
            if (parameterName is null) continue;
            if (!parameters.TryGetValue(parameterName, out var parameter))
                throw new ModelFormatException($"{file.File}: unexpected tensor \"{checkpointName}\" (no such parameter in a {config.Family} model of this config)");
            if (!entry.Shape.SequenceEqual(parameter.shape))
                throw new ModelFormatException(
                    $"{file.File}: tensor \"{checkpointName}\" has shape {FormatShape(entry.Shape)}, expected {FormatShape(parameter.shape)}");
            if (!sources.TryAdd(parameterName, (file, entry)))
                throw new ModelFormatException($"{file.File}: tensor \"{checkpointName}\" duplicates parameter \"{parameterName}\"");
        }
        foreach (var (name, parameter) in parameters)
            if (!sources.ContainsKey(name))
                throw new ModelFormatException(
                    $"{CheckpointFileDescription(dir)}: missing tensor \"{name}\" (expected shape {FormatShape(parameter.shape)})");

        // Each tensor goes from its file straight into its parameter: loading holds the weights once, not twice.
        foreach (var file in sources.GroupBy(source => source.Value.File))
        {
            using var stream = File.OpenRead(file.Key.File);
            foreach (var (name, (header, entry)) in file) SafeTensors.ReadInto(stream, header, entry, parameters[name]);
        }
        if (device is not null) model.to(device);
        model.eval();
        return model;
    }

    /// <summary>
    /// Writes config.json and the weights (<paramref name="dtype"/> F32, F16 or BF16; sharded when
    /// <paramref name="maxShardBytes"/> is exceeded). A tied head is not written, as Hugging Face does.
    /// </summary>
    public static void Save(CausalLM model, string dir, string dtype = "F32", long? maxShardBytes = null)
    {
        Directory.CreateDirectory(dir);
        model.Config.Save(Path.Combine(dir, ConfigFileName));
        var tensors = model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        SafeTensors.WriteCheckpoint(dir, tensors, dtype, maxShardBytes, new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>The parameter a checkpoint tensor loads into; null for buffers to skip and for a tied head's duplicate copy.</summary>
    static string? ParameterName(TransformerConfig config, string checkpointName)
    {
        if (config.TieWordEmbeddings && checkpointName == "lm_head.weight") return null;
        return config.Family == ModelFamily.Gpt2 ? Gpt2Model.ParameterName(checkpointName) : LlamaModel.ParameterName(checkpointName);
    }

    static string CheckpointFileDescription(string dir) =>
        File.Exists(Path.Combine(dir, SafeTensors.SingleFileName))
            ? Path.Combine(dir, SafeTensors.SingleFileName)
            : Path.Combine(dir, SafeTensors.IndexFileName);

    static string FormatShape(IEnumerable<long> shape) => $"[{string.Join(", ", shape)}]";
}
