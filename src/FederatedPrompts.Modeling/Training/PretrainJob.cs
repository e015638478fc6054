using System.Text.Json;
using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Training;

/// <summary>Size of a GPT-2-style model trained from scratch.</summary>
public sealed record GptShape(int Layers = 4, int Hidden = 128, int Heads = 4, int Context = 64)
{
    /// <summary>GPT-2 small's layers, width and heads (124 M parameters with GPT-2's vocabulary) at the context of 128 the benchmarks use (GPT-2's own is 1,024).</summary>
    public static readonly GptShape Gpt2SmallContext128 = new(Layers: 12, Hidden: 768, Heads: 12, Context: 128);

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
    /// <summary>The corpus; a file source (<see cref="TextCorpus.Open"/>) is streamed, never held.</summary>
    public required DocumentSource Documents { get; init; }
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

public sealed record PretrainJobResult(string ModelDir, long Parameters, int VocabSize, int Documents, long TrainStreamTokens, long HeldOutTokens, PretrainState State)
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

    /// <summary>The folder, inside the output folder, where <see cref="Prepare"/> writes the token ids.</summary>
    public const string ExportedTokensFolder = "tokens";

    /// <summary>
    /// What a trainer on another machine needs (bench/teacher/ trains there with PyTorch), made as <see cref="Run"/> makes it: the
    /// output folder gets config.json, the tokenizer files, and <c>tokens/train.u16</c> and <c>tokens/held-out.u16</c>, the
    /// documents' ids (each document followed by end-of-text) as little-endian unsigned 16-bit integers. No weights, and half
    /// the bytes of int32 ids: what travels to the device machine is at most 64 MiB.
    /// </summary>
    public static (long TrainTokens, long HeldOutTokens) Prepare(PretrainJobSpec spec)
    {
        if (spec.Resume) throw new ArgumentException("preparing for another machine starts a new run; it cannot be combined with resuming one");
        var split = DocumentSplit.Of(spec.Documents, spec.HeldOutFraction, spec.Options.Seed);
        var tokenizer = NewRunTokenizer(spec, split);
        if (tokenizer.VocabSize > ushort.MaxValue + 1)
            throw new ArgumentException($"vocabulary of {tokenizer.VocabSize} tokens does not fit 16-bit token ids (at most {ushort.MaxValue + 1})");
        Directory.CreateDirectory(spec.OutputDir);
        spec.Shape.ToConfig(tokenizer.VocabSize, tokenizer).Save(Path.Combine(spec.OutputDir, HfCheckpoint.ConfigFileName));
        TokenizerFiles.Save(tokenizer, spec.TokenizerDir, spec.OutputDir);
        string folder = Path.Combine(spec.OutputDir, ExportedTokensFolder);
        Directory.CreateDirectory(folder);
        return (WriteUInt16(Path.Combine(folder, "train.u16"), TokenizedCorpus.Ids(split.Train(), tokenizer)),
                WriteUInt16(Path.Combine(folder, "held-out.u16"), TokenizedCorpus.Ids(split.HeldOut(), tokenizer)));
    }

    /// <summary>A new run's tokenizer: the given folder's, or the corpus tokenizer trained on the training documents.</summary>
    static ITextTokenizer NewRunTokenizer(PretrainJobSpec spec, DocumentSplit split) =>
        spec.TokenizerDir is not null ? TokenizerLoader.FromFolder(spec.TokenizerDir) : Cl100kSubsetTokenizer.Train(split.Train(), spec.VocabSize);

    static long WriteUInt16(string path, IEnumerable<int> ids)
    {
        using var writer = new BinaryWriter(File.Create(path));   // BinaryWriter writes little-endian on every platform
        long count = 0;
        foreach (var id in ids)
        {
            writer.Write(checked((ushort)id));
            count++;
        }
        return count;
    }

    public static PretrainJobResult Run(PretrainJobSpec spec, IProgress<PretrainProgress>? progress = null, CancellationToken cancel = default)
    {
        var split = DocumentSplit.Of(spec.Documents, spec.HeldOutFraction, spec.Options.Seed);
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
            tokenizer = NewRunTokenizer(spec, split);
            model = HfCheckpoint.Create(spec.Shape.ToConfig(tokenizer.VocabSize, tokenizer), spec.Options.Seed).to(spec.Device);
        }

        void SaveFolder(string dir)
        {
            HfCheckpoint.Save(model, dir);
            TokenizerFiles.Save(tokenizer, spec.TokenizerDir, dir);
        }

        using (model)
        {
            // Token ids go to a scratch file and batches are read from it: the corpus is never held in memory, as strings or as ids.
            using var tokens = TokenizedCorpus.Write(split, tokenizer, Path.Combine(spec.OutputDir, TokenizedCorpus.Folder));
            var state = new Pretrainer(model, spec.Options)
                .Train(tokens.Train, tokens.HeldOut, resumed ?? new PretrainState(), spec.OutputDir, SaveFolder, progress, cancel);
            SaveFolder(spec.OutputDir);
            long parameters = model.parameters().Sum(p => p.numel());
            var result = new PretrainJobResult(spec.OutputDir, parameters, tokenizer.VocabSize, split.Count, tokens.Train.Length, tokens.HeldOut.Length, state);
            File.WriteAllText(Path.Combine(spec.OutputDir, ReportFile), JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
            return result;
        }
    }
}
