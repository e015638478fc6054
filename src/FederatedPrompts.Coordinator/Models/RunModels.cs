using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Discrete.BlackBox;
using FederatedPrompts.Discrete.Proposal;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Post.Tuning;
using static TorchSharp.torch;

namespace FederatedPrompts.Coordinator.Models;

/// <summary>
/// The models a served run computes with: the distilled small model and the large model (one tokenizer), a prompted
/// classifier on each, and what uploads are checked against (<see cref="Facts"/>). Loading checks the pair and the
/// run's settings against them, so a run they cannot serve is refused before it is stored. Models are used by one caller
/// at a time (<see cref="Compute"/>), since the CPU is the bottleneck anyway.
/// </summary>
public sealed class RunModels : IDisposable
{
    readonly RunConfig _config;
    readonly Lazy<ITokenEmbeddings> _vocabulary;
    readonly Lazy<IBatchingBlackBox> _blackBox;
    readonly Lazy<InferenceBatcher?> _batcher;
    readonly SemaphoreSlim _inferenceTurn = new(1, 1);
    /// <summary>Token ids the black box takes: 0 to this, exclusive.</summary>
    readonly int _blackBoxVocabulary;

    /// <param name="inference">How the inference service batches requests (default: <see cref="InferenceBatching.Default"/>).</param>
    public RunModels(RunConfig config, RunTask task, InferenceBatching? inference = null)
    {
        _config = config;
        Task = task;
        Small = HfCheckpoint.Load(config.SmallModel);
        try
        {
            Large = HfCheckpoint.Load(config.LargeModel);
            Tokenizer = TokenizerLoader.FromFolder(config.SmallModel);
            if (TokenizerLoader.FromFolder(config.LargeModel).Identity != Tokenizer.Identity)
                throw new InvalidDataException($"{config.SmallModel} and {config.LargeModel} use different tokenizers; the run needs a distilled pair");
            if (Small.HiddenSize != Large.HiddenSize)
                throw new InvalidDataException($"hidden sizes differ: small model {Small.HiddenSize}, large model {Large.HiddenSize}");
            var labels = task.Verbalizer.Labels;
            PromptedClassifier Classifier(CausalLM m) => new(m, Tokenizer, labels, labels.Select(task.Verbalizer.WordsFor).ToList(), task.Template.Render);
            SmallClassifier = Classifier(Small);
            LargeClassifier = Classifier(Large);
            _vocabulary = new(() => TokenSpaces.Create(config.AggregationEmbeddings, Large, Tokenizer));
            // A soft run never loads the sentence encoder.
            _blackBox = new(() => BlackBoxes.Create(config.Discrete.BlackBox, LargeClassifier, Tokenizer, task.Descriptions));
            inference ??= InferenceBatching.Default;
            _batcher = new(() => inference.MaxBatch > 0 ? new InferenceBatcher(ClassifyBatch, inference.MaxBatch, inference.MaxWait) : null);
            // The sentence encoder reads a prompt as the tokenizer's text, so it takes only ids the tokenizer has (a model may have padding rows beyond them).
            _blackBoxVocabulary = config.Discrete.BlackBox == BlackBoxes.MiniLm ? Math.Min(Large.VocabSize, Tokenizer.VocabSize) : Large.VocabSize;
            Facts = new ModelFacts(ModelIdentity.Of(Small), Small.HiddenSize, Tokenizer.Identity, Tokenizer.VocabSize,
                MaxPromptLength: Math.Max(1, Small.Config.MaxPositions / 2),
                MaxVectorNorm: config.Soft.MaxVectorNorm ?? SoftRunConfig.DefaultMaxVectorNorm(InputEmbeddings.LargestRowNorm(Small)));
            Folder = new ModelFolder(config.SmallModel, Facts.SmallModelIdentity, Tokenizer.Identity);
            // A prompt longer than this could never be uploaded: the run would open and never progress.
            if (config.Has(PromptMode.Soft) && config.Soft.PromptLength > Facts.MaxPromptLength)
                throw new InvalidDataException($"run configuration: soft.prompt_length {config.Soft.PromptLength} exceeds the small model's limit of {Facts.MaxPromptLength} (half its {Small.Config.MaxPositions} positions)");
            if (config.AggregationMaxLength > Facts.MaxPromptLength)
                throw new InvalidDataException($"run configuration: aggregation_max_length {config.AggregationMaxLength} exceeds the small model's limit of {Facts.MaxPromptLength} (half its {Small.Config.MaxPositions} positions)");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public RunTask Task { get; }
    public ModelFacts Facts { get; }
    public ModelFolder Folder { get; }
    public CausalLM Small { get; }
    public CausalLM Large { get; }
    public ITextTokenizer Tokenizer { get; }
    public PromptedClassifier SmallClassifier { get; }
    public PromptedClassifier LargeClassifier { get; }
    /// <summary>Held by every computation with the models.</summary>
    public Lock Compute { get; } = new();

    /// <summary>What uploaded tokens are compared in when they are aggregated (aggregation_embeddings), built on first use.</summary>
    public ITokenEmbeddings Vocabulary => _vocabulary.Value;

    /// <summary>The first global prompt of a mode: soft, embedded from the init text (or seeded random tokens); discrete, the manual prompt's tokens.</summary>
    public Prompt InitialPrompt(PromptMode mode)
    {
        lock (Compute)
        {
            if (mode == PromptMode.Soft)
            {
                using var init = SoftPromptInit.Embed(Small, Tokenizer, _config.Soft.PromptLength, _config.InitTextInUse(), _config.Seed);
                return init.ToSoftPrompt(Facts.SmallModelIdentity);
            }
            var ids = Tokenizer.Encode(_config.Discrete.InitialPrompt);
            if (ids.Count == 0) throw new InvalidDataException($"discrete.initial_prompt \"{_config.Discrete.InitialPrompt}\" encodes to no tokens");
            return TokenPrompt(ids);
        }
    }

    /// <summary>A token prompt of the run's tokenizer, with its decoded text for people to read.</summary>
    public DiscretePrompt TokenPrompt(IReadOnlyList<int> ids) => new(ids, Tokenizer.Identity, Tokenizer.Decode(ids));

    /// <summary>
    /// Held-out accuracy (and macro accuracy) of a global prompt: a soft prompt on the small model, a token prompt on the
    /// black box (discrete.black_box: the large model or the sentence encoder), the model its clients searched it on.
    /// </summary>
    public ClassificationResult Evaluate(Prompt prompt)
    {
        lock (Compute)
        {
            using var scope = NewDisposeScope();
            return prompt switch
            {
                SoftPrompt soft => SmallClassifier.Evaluate(Task.HeldOut, new PromptInput(soft.ToTensor(Small))),
                DiscretePrompt tokens => BlackBox.Evaluate(LargeClassifier.Labels, Task.HeldOut, tokens.TokenIds),
                _ => throw new ArgumentException($"no evaluation for {prompt.GetType().Name}"),
            };
        }
    }

    /// <summary>What discrete-mode clients query (discrete.black_box), unmetered: the inference service charges the queries.</summary>
    IBatchingBlackBox BlackBox => _blackBox.Value;

    /// <summary>
    /// The black box: labels only, for the inference service, with how long the request waited for the model. Batched
    /// with other clients' requests (<see cref="InferenceBatcher"/>) unless the coordinator serves one request at a time.
    /// </summary>
    public System.Threading.Tasks.Task<InferenceAnswer> ClassifyAsync(string client, IReadOnlyList<int> promptIds, IReadOnlyList<string> texts)
    {
        CheckInferencePrompt(promptIds);
        return _batcher.Value is { } batcher ? batcher.ClassifyAsync(client, promptIds, texts) : ClassifyAloneAsync(promptIds, texts);
    }

    /// <summary>
    /// One request after another. Requests wait their turn asynchronously: with a thread each blocked on the model's
    /// lock, 100 clients of an 8-layer model starved the thread pool until Kestrel reset connections (measured).
    /// </summary>
    async System.Threading.Tasks.Task<InferenceAnswer> ClassifyAloneAsync(IReadOnlyList<int> promptIds, IReadOnlyList<string> texts)
    {
        long arrived = System.Diagnostics.Stopwatch.GetTimestamp();
        await _inferenceTurn.WaitAsync();
        try
        {
            return await System.Threading.Tasks.Task.Run(() =>
            {
                lock (Compute)
                {
                    var waited = System.Diagnostics.Stopwatch.GetElapsedTime(arrived);
                    using var scope = NewDisposeScope();
                    return new InferenceAnswer(BlackBox.Classify(promptIds, texts), waited);
                }
            });
        }
        finally
        {
            _inferenceTurn.Release();
        }
    }

    /// <summary>One pass of the black box over queries with their own prompts, under the model lock.</summary>
    IReadOnlyList<string> ClassifyBatch(IReadOnlyList<BlackBoxQuery> queries)
    {
        lock (Compute)
        {
            using var scope = NewDisposeScope();
            return BlackBox.Classify(queries);
        }
    }

    /// <summary>Refuses (<see cref="RejectionKind.Invalid"/>) a token prompt the black box cannot take: ids outside its vocabulary, or too long.</summary>
    public void CheckInferencePrompt(IReadOnlyList<int> promptIds)
    {
        int outside = promptIds.ToList().FindIndex(id => id < 0 || id >= _blackBoxVocabulary);
        if (outside >= 0) throw new RejectionException(RejectionKind.Invalid, $"prompt token {outside} has id {promptIds[outside]}, outside the vocabulary of {_blackBoxVocabulary}");
        if (promptIds.Count > Facts.MaxPromptLength)
            throw new RejectionException(RejectionKind.Invalid, $"prompt length {promptIds.Count} exceeds the limit of {Facts.MaxPromptLength}");
    }

    public void Dispose()
    {
        if (_batcher is { IsValueCreated: true, Value: { } batcher }) batcher.Dispose();
        Small?.Dispose();
        Large?.Dispose();
    }
}
