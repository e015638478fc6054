using System.Text.Json;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Training;

/// <summary>Size of a GPT-2-style model trained from scratch.</summary>
public sealed record GptShape(int Layers = 4, int Hidden = 128, int Heads = 4, int Context = 64)
{
    public TransformerConfig ToConfig(int vocabSize, ITextTokenizer tokenizer) => new()
    {
        Family = ModelFamily.Gpt2, VocabSize = vocabSize, HiddenSize = Hidden, NumLayers = Layers, NumHeads = Heads,
        NumKvHeads = Heads, HeadDim = Hidden / Heads, IntermediateSize = 4 * Hidden, MaxPositions = Context,
        TieWordEmbeddings = true, Activation = "gelu_new", AttentionBias = true, MlpBias = true,
        BosTokenId = tokenizer.BosId, EosTokenId = tokenizer.EosId,
    };
}

public sealed record PretrainJobSpec
{
    public required IReadOnlyList<string> Documents { get; init; }
    public required string OutputDir { get; init; }
    public GptShape Shape { get; init; } = new();
    /// <summary>An existing tokenizer folder; null trains the project's corpus tokenizer (cl100k remapped) on the documents.</summary>
    public string? TokenizerDir { get; init; }
    public int VocabSize { get; init; } = 4096;
    public double HeldOutFraction { get; init; } = 0.05;
    public PretrainOptions Options { get; init; } = new();
    public bool Resume { get; init; }
    public Device Device { get; init; } = CPU;
}

public sealed record PretrainJobResult(string ModelDir, long Parameters, int VocabSize, long TrainStreamTokens, long HeldOutTokens, PretrainState State)
{
    public double FinalPerplexity => State.HeldOutCurve[^1].Perplexity;
}

/// <summary>
/// Pretrains a teacher where no large model can be downloaded: splits documents into train and held-out
/// (by document, seeded), builds or loads the tokenizer, trains, and writes an ordinary Hugging Face folder
/// (config.json, model.safetensors, tokenizer files) plus <c>pretrain_report.json</c>.
/// </summary>
public static class PretrainJob
{
    public const string ReportFile = "pretrain_report.json";

    public static PretrainJobResult Run(PretrainJobSpec spec, IProgress<PretrainProgress>? progress = null, CancellationToken cancel = default)
    {
        if (spec.Documents.Count < 2) throw new ArgumentException("pretraining needs at least two documents (one is held out)");
        var (trainDocs, heldOutDocs) = Split(spec.Documents, spec.HeldOutFraction, spec.Options.Seed);
        Directory.CreateDirectory(spec.OutputDir);
        string checkpointDir = Path.Combine(spec.OutputDir, Pretrainer.CheckpointFolder);

        var resumed = spec.Resume ? Pretrainer.TryLoadCheckpoint(spec.OutputDir) : null;
        ITextTokenizer tokenizer;
        CausalLM model;
        if (resumed is not null)
        {
            tokenizer = TokenizerLoader.FromFolder(checkpointDir);
            model = HfCheckpoint.Load(checkpointDir, spec.Device);
        }
        else
        {
            tokenizer = spec.TokenizerDir is not null
                ? TokenizerLoader.FromFolder(spec.TokenizerDir)
                : Cl100kSubsetTokenizer.Train(trainDocs, spec.VocabSize);
            model = HfCheckpoint.Create(spec.Shape.ToConfig(tokenizer.VocabSize, tokenizer), spec.Options.Seed).to(spec.Device);
        }

        void SaveFolder(string dir)
        {
            HfCheckpoint.Save(model, dir);
            TokenizerFiles.Save(tokenizer, spec.TokenizerDir, dir);
        }

        using (model)
        {
            int[] train = Pretrainer.Tokenize(trainDocs, tokenizer), heldOut = Pretrainer.Tokenize(heldOutDocs, tokenizer);
            var state = new Pretrainer(model, spec.Options)
                .Train(train, heldOut, resumed ?? new PretrainState(), spec.OutputDir, SaveFolder, progress, cancel);
            SaveFolder(spec.OutputDir);
            long parameters = model.parameters().Sum(p => p.numel());
            var result = new PretrainJobResult(spec.OutputDir, parameters, tokenizer.VocabSize, train.Length, heldOut.Length, state);
            File.WriteAllText(Path.Combine(spec.OutputDir, ReportFile), JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
            return result;
        }
    }

    /// <summary>Seeded split by document, so held-out text is never seen in training; at least one document each side.</summary>
    public static (List<string> Train, List<string> HeldOut) Split(IReadOnlyList<string> documents, double heldOutFraction, int seed)
    {
        if (heldOutFraction <= 0 || heldOutFraction >= 1) throw new ArgumentException($"held-out fraction {heldOutFraction} must lie in (0,1)");
        var order = Enumerable.Range(0, documents.Count).ToArray();
        new Random(seed).Shuffle(order);
        int heldOut = Math.Clamp((int)Math.Round(documents.Count * heldOutFraction), 1, documents.Count - 1);
        return (order.Skip(heldOut).Select(i => documents[i]).ToList(), order.Take(heldOut).Select(i => documents[i]).ToList());
    }
}
