using System.Security.Cryptography;
using System.Text.Json;
using FederatedPrompts.Aggregation.Soft;
using FederatedPrompts.Aggregation.Tokens;
using FederatedPrompts.Aggregation.Uploads;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Discrete.Proposal;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Post.Transfer;
using FederatedPrompts.Post.Tuning;
using FederatedPrompts.Protocol;
using FederatedPrompts.Protocol.V1;
using static TorchSharp.torch;

namespace FederatedPrompts.Coordinator.Models;

/// <summary>
/// The transfer step's outcome, stored with the run and shown in its report. Accuracies are on the held-out set;
/// TransferredLarge is the published prompt's (the best on public_labeled when validating, else the last), LastLarge the last
/// step's. BestStep and Validation (step → public_labeled accuracy) are null without validation. Losses are over all public texts.
/// </summary>
public sealed record TransferOutcome(double Alpha, string AlphaSource, double ZeroShotLarge, double DirectLarge, double TransferredLarge,
    double LastLarge, double SmallWithPrompt, int Steps, double InitialLoss, double FinalLoss, int PublicTexts, double Seconds,
    int? BestStep = null, IReadOnlyList<ValidationPoint>? Validation = null);

/// <summary>
/// Everything the coordinator computes with models: the initial global prompt, aggregation of a round's updates
/// (token prompts are embedded with the model's input embeddings first), evaluation on the coordinator's held-out
/// set, the black-box inference service, and POST transfer of the final soft prompt to the large model. Models are
/// used by one caller at a time (one lock), since the CPU is the bottleneck anyway.
/// </summary>
public sealed class CoordinatorModels : IDisposable
{
    readonly RunConfig _config;
    readonly CausalLM _small, _large;
    readonly ITextTokenizer _tokenizer;
    readonly PromptedClassifier _smallClassifier, _largeClassifier;
    readonly IReadOnlyList<(string Text, string Label)> _eval;
    readonly TaskDataset? _publicLabeled;
    readonly Verbalizer _verbalizer;
    readonly PromptTemplate _template;
    readonly Lazy<ITokenEmbeddings> _vocabulary;
    readonly Lock _compute = new();

    public CoordinatorModels(RunConfig config)
    {
        _config = config;
        (_template, _verbalizer) = TaskOf(config);
        var evalSet = TaskFile.Load(config.EvalTask);
        _verbalizer.RequireCovers(evalSet.Labels);
        if (config.EvalLimit is int limit && limit < evalSet.Count) evalSet = evalSet.Sample(limit, config.Seed);
        _eval = evalSet.Examples.Select(e => (e.Text, e.Label)).ToList();
        if (config.PublicLabeled is { } publicPath)
        {
            _publicLabeled = TaskFile.Load(publicPath);
            _verbalizer.RequireCovers(_publicLabeled.Labels);
        }
        _small = HfCheckpoint.Load(config.SmallModel);
        _large = HfCheckpoint.Load(config.LargeModel);
        _tokenizer = TokenizerLoader.FromFolder(config.SmallModel);
        if (TokenizerLoader.FromFolder(config.LargeModel).Identity != _tokenizer.Identity)
            throw new InvalidDataException($"{config.SmallModel} and {config.LargeModel} use different tokenizers; the run needs a distilled pair");
        if (_small.HiddenSize != _large.HiddenSize)
            throw new InvalidDataException($"hidden sizes differ: small model {_small.HiddenSize}, large model {_large.HiddenSize}");
        var labels = _verbalizer.Labels;
        PromptedClassifier Classifier(CausalLM m) => new(m, _tokenizer, labels, labels.Select(_verbalizer.WordsFor).ToList(), _template.Render);
        _smallClassifier = Classifier(_small);
        _largeClassifier = Classifier(_large);
        _vocabulary = new(() => TokenSpaces.Create(_config.AggregationEmbeddings, _large, _tokenizer));
        SmallModelIdentity = ModelIdentity.Of(_small);
        Facts = new ModelFacts(SmallModelIdentity, _small.HiddenSize, _tokenizer.Identity, _tokenizer.VocabSize,
            MaxPromptLength: Math.Max(1, _small.Config.MaxPositions / 2),
            MaxVectorNorm: config.Soft.MaxVectorNorm ?? SoftRunConfig.DefaultMaxVectorNorm(InputEmbeddings.LargestRowNorm(_small)));
        Manifest = BuildManifest(config.SmallModel, SmallModelIdentity, _tokenizer.Identity);
        // A prompt longer than this could never be uploaded: the run would open and never progress.
        if (config.IsSoft && config.Soft.PromptLength > Facts.MaxPromptLength)
            throw new InvalidDataException($"run configuration: soft.prompt_length {config.Soft.PromptLength} exceeds the small model's limit of {Facts.MaxPromptLength} (half its {_small.Config.MaxPositions} positions)");
        if (config.AggregationMaxLength > Facts.MaxPromptLength)
            throw new InvalidDataException($"run configuration: aggregation_max_length {config.AggregationMaxLength} exceeds the small model's limit of {Facts.MaxPromptLength} (half its {_small.Config.MaxPositions} positions)");
    }

    public ModelFacts Facts { get; }

    public string SmallModelIdentity { get; }
    public ModelManifest Manifest { get; }

    public static (PromptTemplate Template, Verbalizer Verbalizer) TaskOf(RunConfig config)
    {
        var preset = config.Preset is { } name ? TaskPreset.Get(name) : null;
        var template = config.Template is { } pattern ? new PromptTemplate(pattern) : preset!.Template;
        var verbalizer = config.LabelWords is { } words
            ? new Verbalizer(words.Select(p => new KeyValuePair<string, IReadOnlyList<string>>(p.Key, p.Value)))
            : preset!.Verbalizer;
        return (template, verbalizer);
    }

    /// <summary>The run's template, label words and the public examples sent to clients (balanced, seeded).</summary>
    public TaskSpec TaskSpec()
    {
        var spec = new TaskSpec { Template = _template.Pattern };
        foreach (var label in _verbalizer.Labels)
            spec.Labels.Add(new LabelWords { Label = label, Words = { _verbalizer.WordsFor(label) } });
        if (_publicLabeled is not null && _config.PublicPerLabel > 0)
            foreach (var example in _publicLabeled.Balanced(_config.PublicPerLabel, _config.Seed).Examples)
                spec.PublicExamples.Add(new PublicExample { Text = example.Text, Label = example.Label });
        return spec;
    }

    public PromptValue InitialPrompt()
    {
        lock (_compute)
        {
            if (_config.IsSoft)
            {
                using var init = SoftPromptInit.Embed(_small, _tokenizer, _config.Soft.PromptLength, _config.InitTextInUse(), _config.Seed);
                return PromptMessages.ToMessage(init.ToSoftPrompt(SmallModelIdentity));
            }
            var ids = _tokenizer.Encode(_config.Discrete.InitialPrompt);
            if (ids.Count == 0) throw new InvalidDataException($"discrete.initial_prompt \"{_config.Discrete.InitialPrompt}\" encodes to no tokens");
            return PromptMessages.ToMessage(new DiscretePrompt(ids, _tokenizer.Identity, _tokenizer.Decode(ids)));
        }
    }

    /// <summary>The round's global prompt from its accepted updates (example-weighted where the strategy weighs), and notes for the report.</summary>
    public (PromptValue Prompt, object Notes) Aggregate(IReadOnlyList<UpdateRecord> updates)
    {
        if (_config.IsSoft)
        {
            var uploads = updates.Select(u => new SoftPromptUpload(u.ClientId, PromptMessages.ToSoftPrompt(u.Prompt).Rows(), u.ExampleCount)).ToList();
            var strategy = SoftPromptAggregationStrategies.Create(_config.Strategy,
                new SoftAggregationOptions(_config.AggregationMinSamples, MaxLength: _config.AggregationMaxLength ?? _config.Soft.PromptLength, Eps: _config.AggregationEpsRule,
                    TrimFraction: _config.AggregationTrimFraction));
            var global = strategy.Aggregate(uploads);
            return (PromptMessages.ToMessage(global.ToSoftPrompt(SmallModelIdentity)), NotesOf(global.Notes, global.Vectors.Count));
        }
        var vocabulary = _vocabulary.Value;
        var tokenUploads = updates.Select(u =>
        {
            var ids = PromptMessages.ToDiscretePrompt(u.Prompt).TokenIds;
            return new TokenPromptUpload(u.ClientId, ids.Zip(vocabulary.Embed(ids), (id, vector) => new PromptToken(id, vector)).ToList(), u.ExampleCount);
        }).ToList();
        var tokenStrategy = TokenAggregationStrategies.Create(_config.Strategy, new TokenAggregationOptions(
            _config.AggregationMinSamples, PromptLength: _config.AggregationMaxLength ?? Facts.MaxPromptLength, Seed: _config.Seed, Vocabulary: vocabulary,
            Eps: _config.AggregationEpsRule, K: _config.AggregationK));
        var tokens = tokenStrategy.Aggregate(tokenUploads);
        var ids = tokens.TokenIds.ToList();
        return (PromptMessages.ToMessage(new DiscretePrompt(ids, _tokenizer.Identity, _tokenizer.Decode(ids))), NotesOf(tokens.Notes, ids.Count));
    }

    static object NotesOf(Aggregation.Clustering.AggregationNotes notes, int length) => new
    {
        prompt_length = length, clusters = notes.Clusters, noise_kept = notes.NoiseKept, noise_dropped = notes.NoiseDropped,
        eps = notes.EpsChoice?.Eps, knee_index = notes.EpsChoice?.KneeIndex, eps_rule = notes.EpsChoice?.Rule.ToString(),
    };

    /// <summary>Held-out accuracy (and macro accuracy) of a global prompt: a soft prompt on the small model, a token prompt on the large model.</summary>
    public ClassificationResult Evaluate(PromptValue prompt)
    {
        lock (_compute)
        {
            if (!_config.IsSoft)
                return _largeClassifier.Evaluate(_eval, new PromptInput(Discrete: PromptMessages.ToDiscretePrompt(prompt).TokenIds));
            using var scope = NewDisposeScope();
            return _smallClassifier.Evaluate(_eval, new PromptInput(PromptMessages.ToSoftPrompt(prompt).ToTensor(_small)));
        }
    }

    /// <summary>The black box: labels only, for the inference service.</summary>
    public IReadOnlyList<string> Classify(IReadOnlyList<int> promptIds, IReadOnlyList<string> texts)
    {
        CheckInferencePrompt(promptIds);
        lock (_compute)
        {
            using var scope = NewDisposeScope();
            return _largeClassifier.Predict(texts, new PromptInput(Discrete: promptIds)).Select(i => _largeClassifier.Labels[i]).ToList();
        }
    }

    /// <summary>Refuses (<see cref="RejectionKind.Invalid"/>) a token prompt the large model cannot take: ids outside its vocabulary, or too long.</summary>
    public void CheckInferencePrompt(IReadOnlyList<int> promptIds)
    {
        int outside = promptIds.ToList().FindIndex(id => id < 0 || id >= _large.VocabSize);
        if (outside >= 0) throw new RejectionException(RejectionKind.Invalid, $"prompt token {outside} has id {promptIds[outside]}, outside the vocabulary of {_large.VocabSize}");
        if (promptIds.Count > Facts.MaxPromptLength)
            throw new RejectionException(RejectionKind.Invalid, $"prompt length {promptIds.Count} exceeds the limit of {Facts.MaxPromptLength}");
    }

    /// <summary>POST: the global soft prompt (small model) to the large model, on public texts only; then held-out accuracies.</summary>
    public (PromptValue LargePrompt, TransferOutcome Outcome) Transfer(PromptValue globalPrompt, IProgress<TransferProgress>? progress = null)
    {
        lock (_compute)
        {
            var started = DateTime.UtcNow;
            using var scope = NewDisposeScope();
            var small = PromptMessages.ToSoftPrompt(globalPrompt);
            var ps = small.ToTensor(_small);
            double alpha;
            string source;
            if (_config.Transfer.Alpha is double given) (alpha, source) = (given, "configured");
            else if (_publicLabeled is not null)
            {
                var choice = PromptTransfer.ChooseAlpha(_largeClassifier, _smallClassifier, ps, _publicLabeled.Examples.Select(e => (e.Text, e.Label)).ToList());
                (alpha, source) = (choice.Alpha, $"heuristic: zero-shot {choice.ZeroShotLarge:F3}, compressed {choice.CompressedSmall:F3}, random {choice.RandomGuess:F3}");
            }
            else (alpha, source) = (0.5, "default 0.5 (no public_labeled set for the heuristic)");

            var texts = PublicTexts.Load(_config.PublicTexts, _config.PublicTextsLimit, _config.Seed);
            var options = new TransferOptions
            {
                Steps = _config.Transfer.Steps, LearningRate = _config.Transfer.LearningRate, BatchSize = _config.Transfer.BatchSize,
                Alpha = alpha, Seed = _config.Seed, ValidateEvery = _config.Transfer.ValidateEvery,
            };
            var init = SoftPromptInit.Embed(_large, _tokenizer, small.Length, _config.InitTextInUse(), _config.Seed);
            bool validating = options.ValidateEvery > 0;
            var result = new PromptTransfer(_largeClassifier, _smallClassifier, options).Run(texts, ps, init,
                validating ? _publicLabeled!.Examples.Select(e => (e.Text, e.Label)).ToList() : null, progress);
            var largePrompt = result.Best.ToSoftPrompt(ModelIdentity.Of(_large));
            double transferred = _largeClassifier.Evaluate(_eval, new PromptInput(result.Best)).Accuracy;
            var outcome = new TransferOutcome(alpha, source,
                ZeroShotLarge: _largeClassifier.Evaluate(_eval, PromptInput.None).Accuracy,
                DirectLarge: _largeClassifier.Evaluate(_eval, new PromptInput(ps)).Accuracy,
                TransferredLarge: transferred,
                LastLarge: validating ? _largeClassifier.Evaluate(_eval, new PromptInput(result.Last)).Accuracy : transferred,
                SmallWithPrompt: _smallClassifier.Evaluate(_eval, new PromptInput(ps)).Accuracy,
                options.Steps, result.InitialLoss, result.FinalLoss, texts.Texts.Count, (DateTime.UtcNow - started).TotalSeconds,
                validating ? result.BestStep : null, validating ? result.Validation : null);
            return (PromptMessages.ToMessage(largePrompt), outcome);
        }
    }

    public static string ToJson(object value) => JsonSerializer.Serialize(value, RunConfig.Json);

    /// <summary>Every file of the model folder clients download (top level only; checkpoints of training are not part of the model).</summary>
    static ModelManifest BuildManifest(string folder, string modelIdentity, string tokenizerIdentity)
    {
        var manifest = new ModelManifest { ModelIdentity = modelIdentity, TokenizerIdentity = tokenizerIdentity };
        foreach (var file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
        {
            using var stream = File.OpenRead(file);
            manifest.Files.Add(new ModelFile
            {
                Name = System.IO.Path.GetFileName(file), Size = stream.Length,
                Sha256 = Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant(),
            });
        }
        return manifest;
    }

    /// <summary>Path of a manifest file in the model folder; null for a name the manifest does not list.</summary>
    public string? ModelFilePath(string name) =>
        Manifest.Files.Any(f => f.Name == name) ? System.IO.Path.Combine(_config.SmallModel, name) : null;

    public void Dispose()
    {
        _small.Dispose();
        _large.Dispose();
    }
}
